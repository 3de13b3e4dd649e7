import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';

/** The settings `PrivacyPolicy` reads (a subset of `AppConfig`). */
export interface PrivacySettings {
  PRIVACY_DROP_FIELDS: readonly string[];
  PRIVACY_HASH_FIELDS: readonly string[];
  PRIVACY_HASH_SALT?: string;
}

/**
 * What may leave the process about a prediction's input features (GDPR): listed fields are dropped, or
 * replaced by a keyed hash (HMAC-SHA256 with `PRIVACY_HASH_SALT`, hex) so that equal values still group
 * together without being readable. Used by the prediction log and by the prediction store.
 */
@Injectable()
export class PrivacyPolicy {
  private readonly drop: ReadonlySet<string>;
  private readonly hash: ReadonlySet<string>;
  private readonly salt: string;
  /** No field to drop or hash: `apply` returns its argument untouched (no copy on the hot path). */
  readonly isNoop: boolean;

  constructor(@Inject(AppConfig) config: PrivacySettings) {
    this.drop = new Set(config.PRIVACY_DROP_FIELDS);
    // A field both dropped and hashed is dropped.
    this.hash = new Set(config.PRIVACY_HASH_FIELDS.filter((field) => !this.drop.has(field)));
    this.salt = config.PRIVACY_HASH_SALT ?? '';
    this.isNoop = this.drop.size === 0 && this.hash.size === 0;
  }

  /** True when hashing runs without a salt (hashes of small value sets can then be reversed by trial). */
  get unsalted(): boolean {
    return this.hash.size > 0 && this.salt === '';
  }

  /** The inputs as they may be logged or stored. Never mutates its argument. */
  apply(inputs: Record<string, number | string>): Record<string, number | string> {
    if (this.isNoop) return inputs;
    const out: Record<string, number | string> = {};
    for (const key of Object.keys(inputs)) {
      if (this.drop.has(key)) continue;
      const value = inputs[key] as number | string;
      out[key] = this.hash.has(key) ? this.hashValue(value) : value;
    }
    return out;
  }

  /** The hash a value gets (same value, same salt ⇒ same hash; numbers hash as their decimal text). */
  hashValue(value: number | string): string {
    return createHmac('sha256', this.salt).update(String(value)).digest('hex');
  }
}
