/** Prompt markers that make the simulator answer as Venice does for moderated or heavy output. */
export const BLUR_TRIGGER = '[sim:blur]';
export const VIOLATION_TRIGGER = '[sim:violation]';
export const GRAIN_TRIGGER = '[sim:grain]';
