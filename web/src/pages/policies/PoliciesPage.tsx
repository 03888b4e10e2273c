import { PageHeader } from "../../components/PageHeader";

export default function PoliciesPage() {
  return <PageHeader title="PoliciesPage" description="This screen is being built." />;
}
