/// <reference types="unplugin-imageprompt/types" />
import hero from './assets/hero.imageprompt.json?imageprompt';
import banner from './assets/banner.imageprompt.json?imageprompt';
import poster from './assets/poster.imageprompt.json?imageprompt';
import badge from './assets/badge.imageprompt.json?imageprompt';
import pears from './assets/pears.imageprompt.json?imageprompt';
import mug from './assets/mug.imageprompt.json?imageprompt';
import team from './assets/team.imageprompt.json?imageprompt';
import { pictureElement } from 'unplugin-imageprompt/picture';

interface Shown {
  name: string;
  image: { src: string; width: number; height: number; format: string; blurDataURL?: string; color?: string; srcset?: string; sources?: { type: string; srcset: string }[] };
  alt: string | undefined;
}

const shown: Shown[] = [
  { name: 'hero (pixel size)', image: hero, alt: hero.alt },
  { name: 'banner (aspect_ratio, responsive: AVIF and WebP at 480, 960, 1280 px)', image: banner, alt: banner.alt },
  { name: 'poster (aspect_ratio + resolution)', image: poster, alt: poster.alt },
  { name: 'badge (style_preset)', image: badge, alt: badge.alt },
  ...pears.variants.map((image, i) => ({ name: `pears variant ${i + 1} of ${pears.variants.length}`, image, alt: pears.alt })),
  // a chain: each step's own cached request, the last one imported
  { name: `mug (${mug.steps.map((step) => step.label).join(' → ')})`, image: mug, alt: mug.alt },
  { name: `team (a committed photo: ${team.steps.map((step) => step.label).join(' → ')})`, image: team, alt: team.alt },
];

const gallery = document.querySelector<HTMLElement>('#gallery')!;
for (const { name, image, alt } of shown) {
  const figure = document.createElement('figure');
  // a prompt file with "responsive": a <picture> the browser picks a format and width from
  const picture = image.sources ? pictureElement(image, { sizes: '(max-width: 640px) 100vw, 640px', alt, loading: 'eager' }) : undefined;
  const img = picture?.querySelector('img') ?? document.createElement('img');
  if (!picture) {
    img.src = image.src;
    img.width = image.width;
    img.height = image.height;
    img.alt = alt ?? '';
  }
  // blur-up: the tiny blurred copy (and the dominant colour) shows until the image has loaded
  if (image.blurDataURL) {
    img.style.background = `${image.color ?? 'transparent'} url("${image.blurDataURL}") center / cover no-repeat`;
    img.addEventListener('load', () => (img.style.background = 'none'), { once: true });
  }
  const caption = document.createElement('figcaption');
  caption.textContent = `${name} · ${image.width}×${image.height} ${image.format}`;
  figure.append(picture ?? img, caption);
  gallery.append(figure);
}
