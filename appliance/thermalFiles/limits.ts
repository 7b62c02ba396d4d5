/**
 * Resource caps for every thermal file reader (issue 11): a file may declare any size, so each reader checks
 * what the file claims against these limits BEFORE allocating or decompressing, and refuses with a message
 * naming the file, the limit and the value. The largest thermal sensors on the market are 1280×1024; the
 * caps leave room for upscaled exports without letting a 1 KB header ask for gigabytes.
 */
export const THERMAL_FILE_LIMITS = Object.freeze({
  /** Largest image width and height, pixels. */
  maxWidth: 4096,
  maxHeight: 4096,
  /** Largest file read whole into memory, bytes (a .y16 recording is read one frame at a time instead). */
  maxFileBytes: 256 * 2 ** 20,
  /** Largest text matrix, bytes (a 4096×4096 matrix of "36.45," is ≈ 100 MB; real exports are far smaller). */
  maxTextBytes: 64 * 2 ** 20,
  /** Most bytes a compressed container (CPTV's gzip stream) may unpack to. */
  maxUnpackedBytes: 512 * 2 ** 20,
  /** Deepest JSON nesting accepted in side files (recording.json) and input lines. */
  maxJsonDepth: 64,
});

/** `${w}×${h} pixels exceeds the limit of …`, or null when the size is allowed. */
export function dimensionProblem(width: number, height: number): string | null {
  const { maxWidth, maxHeight } = THERMAL_FILE_LIMITS;
  if (width > maxWidth || height > maxHeight) {
    return `${width}×${height} pixels exceeds the limit of ${maxWidth}×${maxHeight}`;
  }
  return null;
}

/** Nesting depth of JSON text (brackets outside strings), without parsing it; stops counting past `limit`. */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}
