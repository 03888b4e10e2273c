import { PageHeader } from "../../components/PageHeader";

export default function WebhooksPage() {
  return <PageHeader title="WebhooksPage" description="This screen is being built." />;
}
