/**
 * What a run has spent at catalog prices, and the cap on it. Every attempt Venice answers with an
 * image is charged, so each one is reserved before it is sent and kept if Venice charged for it,
 * retries included. Once the cap refuses one call the run stops generating: later misses are not
 * sent either, even cheaper ones, so the images a capped run leaves out do not depend on timing.
 */
import { ImagePromptError } from '../errors/errors.js';
import { round } from '../catalog/pricing.js';

export class SpendLedger {
  /** US dollars charged so far. */
  spent = 0;
  /** US dollars of attempts in flight. */
  private reserved = 0;
  private stopped = false;

  constructor(readonly capUsd: number | undefined) {}

  /** Reserves one attempt's price, or throws SPEND_CAP when it would take the run over the cap. */
  reserve(file: string, price: number): void {
    const cap = this.capUsd;
    if (cap !== undefined && (this.stopped || round(this.spent + this.reserved + price) > cap)) {
      this.stopped = true;
      throw new ImagePromptError({
        code: 'SPEND_CAP',
        file,
        message: `not generated: this run stopped at the spend cap of $${cap} (spent $${round(this.spent)}, $${round(this.reserved)} in flight; this image costs $${price})`,
        hint: 'raise the cap (--max-spend, or the maxSpendUsd option) to generate it',
      });
    }
    this.reserved = round(this.reserved + price);
  }

  /** Settles a reserved attempt: kept if Venice charged for it, released if not. */
  settle(price: number, charged: boolean): void {
    this.reserved = round(this.reserved - price);
    if (charged) this.spent = round(this.spent + price);
  }
}
