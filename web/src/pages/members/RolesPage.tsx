import { PageHeader } from "../../components/PageHeader";

export default function RolesPage() {
  return <PageHeader title="RolesPage" description="This screen is being built." />;
}
