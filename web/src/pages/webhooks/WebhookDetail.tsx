import { PageHeader } from "../../components/PageHeader";

export default function WebhookDetail() {
  return <PageHeader title="WebhookDetail" description="This screen is being built." />;
}
