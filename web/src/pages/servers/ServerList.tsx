import { PageHeader } from "../../components/PageHeader";

export default function ServerList() {
  return <PageHeader title="ServerList" description="This screen is being built." />;
}
