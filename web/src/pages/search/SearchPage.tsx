import { PageHeader } from "../../components/PageHeader";

export default function SearchPage() {
  return <PageHeader title="SearchPage" description="This screen is being built." />;
}
