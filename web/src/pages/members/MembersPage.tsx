import { PageHeader } from "../../components/PageHeader";

export default function MembersPage() {
  return <PageHeader title="MembersPage" description="This screen is being built." />;
}
