/** Reads an attribute of the element with a given id from built HTML (attribute order varies). */
export function attributeOf(html: string, id: string, name: string): string | undefined {
  const element = new RegExp(`<[a-z]+\\b[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  const value = element && new RegExp(`\\s${name}="([^"]*)"`).exec(element)?.[1];
  return value?.replace(/&amp;/g, '&');
}
