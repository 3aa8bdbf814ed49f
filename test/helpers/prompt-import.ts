/** What a built bundle's prompt-file import gave, as the tests read it back (the default export). */
export interface PromptImport {
  src: string;
  width: number;
  height: number;
  format: string;
  srcset?: string;
  sources?: { type: string; srcset: string }[];
  alt?: string;
  /** The request key of the image (of the last step, for a chain). */
  key: string;
  variants: { src: string; width: number; height: number; format: string }[];
}
