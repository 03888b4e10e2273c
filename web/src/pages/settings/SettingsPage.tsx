import { PageHeader } from "../../components/PageHeader";

export default function SettingsPage() {
  return <PageHeader title="SettingsPage" description="This screen is being built." />;
}
