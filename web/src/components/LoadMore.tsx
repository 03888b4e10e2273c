import { Button, Group } from "@mantine/core";

/** The part of an infinite query a "Load more" button needs. */
export interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/** The next page of a cursor-paged list, on demand; nothing when there is none. */
export function LoadMore({ pages, centered = true }: { pages: Pages; centered?: boolean }) {
  if (!pages.hasNextPage) return null;
  const button = (
    <Button
      variant="default"
      loading={pages.isFetchingNextPage}
      onClick={() => void pages.fetchNextPage()}
    >
      Load more
    </Button>
  );
  return centered ? <Group justify="center">{button}</Group> : button;
}
