import { PageHeader } from "../../components/PageHeader";

export default function ServerDetail() {
  return <PageHeader title="ServerDetail" description="This screen is being built." />;
}
