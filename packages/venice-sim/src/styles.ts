/** Style names served by `GET /image/styles` (the list Venice has published since 2025). */
export const STYLE_PRESETS: readonly string[] = [
  '3D Model', 'Analog Film', 'Anime', 'Cinematic', 'Comic Book', 'Craft Clay', 'Digital Art', 'Enhance',
  'Fantasy Art', 'Isometric Style', 'Line Art', 'Lowpoly', 'Neon Punk', 'Origami', 'Photographic',
  'Pixel Art', 'Texture', 'Advertising', 'Food Photography', 'Real Estate', 'Abstract', 'Cubist',
  'Graffiti', 'Hyperrealism', 'Impressionist', 'Pointillism', 'Pop Art', 'Psychedelic', 'Renaissance',
  'Steampunk', 'Surrealist', 'Typography', 'Watercolor', 'Fighting Game', 'GTA', 'Super Mario',
  'Minecraft', 'Pokemon', 'Retro Arcade', 'Retro Game', 'RPG Fantasy Game', 'Strategy Game',
  'Street Fighter', 'Legend of Zelda', 'Architectural', 'Disco', 'Dreamscape', 'Dystopian',
  'Fairy Tale', 'Gothic', 'Grunge', 'Horror', 'Minimalist', 'Monochrome', 'Nautical', 'Space',
  'Stained Glass', 'Techwear Fashion', 'Tribal', 'Zentangle', 'Collage', 'Flat Papercut', 'Kirigami',
  'Paper Mache', 'Paper Quilling', 'Papercut Collage', 'Papercut Shadow Box', 'Stacked Papercut',
  'Thick Layered Papercut', 'Alien', 'Film Noir', 'HDR', 'Long Exposure', 'Neon Noir', 'Silhouette',
  'Tilt-Shift',
];
