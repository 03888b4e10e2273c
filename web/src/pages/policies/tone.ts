// Filled buttons in indigo 7: white text on the theme's default shade (6) reads at 4.3:1, under
// the 4.5:1 that text needs. Notifications name their close button.
export const PRIMARY = "indigo.7";
export const CLOSE = { "aria-label": "Close the message" };
