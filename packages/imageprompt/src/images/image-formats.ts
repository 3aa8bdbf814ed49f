/** The image formats Venice returns, and the file extension each is stored under. No schema library. */
export const IMAGE_FORMATS = ['webp', 'png', 'jpeg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export function extensionOf(format: ImageFormat): 'webp' | 'png' | 'jpg' {
  return format === 'jpeg' ? 'jpg' : format;
}
