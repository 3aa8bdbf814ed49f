/** The day the bundled model catalog (`data/venice-image-models.json`) was taken from Venice. */
export const CATALOG_DATE = '2026-08-20';
