import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ContentBlock } from "../../src/pages/playground/ResultView";
import { renderScreen } from "../render";

// "RIFF": the first bytes of a WAV file, enough to see the bytes reach the blob.
const WAV = btoa("RIFF");

const { createObjectURL, revokeObjectURL } = URL;
afterEach(() => Object.assign(URL, { createObjectURL, revokeObjectURL }));

describe("Playground: an audio block", () => {
  it("plays in an audio element from a blob URL of its bytes, with a download link", async () => {
    // jsdom has no object URLs; a browser makes one for the blob.
    const made: Blob[] = [];
    const create = vi.fn((blob: Blob) => {
      made.push(blob);
      return "blob:http://console.test/1";
    });
    const revoke = vi.fn();
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: revoke });

    const view = renderScreen(<ContentBlock block={{ type: "audio", data: WAV, mimeType: "audio/wav" }} index={0} />);
    const audio = await screen.findByTestId("result-audio");
    expect(audio.tagName).toBe("AUDIO");
    expect(audio).toHaveAttribute("controls");
    expect(audio).toHaveAccessibleName("Audio 1 of the result (audio/wav)");
    expect(audio).toHaveAttribute("src", "blob:http://console.test/1");
    expect(made[0]!.type).toBe("audio/wav");
    expect(await made[0]!.text()).toBe("RIFF");

    const download = screen.getByRole("link", { name: "Download the audio" });
    expect(download).toHaveAttribute("href", "blob:http://console.test/1");
    expect(download).toHaveAttribute("download", "audio-1");

    view.unmount();
    expect(revoke).toHaveBeenCalledWith("blob:http://console.test/1");
  });

  it("shows a block that is not audio data as JSON", () => {
    renderScreen(<ContentBlock block={{ type: "audio", data: WAV, mimeType: "text/plain" }} index={0} />);
    expect(screen.queryByTestId("result-audio")).not.toBeInTheDocument();
  });
});
