/**
 * What an emulator answers for one address (a token, a phone number, a mailbox): failures scripted
 * with `fail` come first, one per request, then the standing one from `failAlways`; none means success.
 */
export class FailureScript<Spec> {
  private once = new Map<string, Spec[]>();
  private always = new Map<string, Spec>();

  fail(key: string, responses: Spec[]): void {
    this.once.set(key, [...(this.once.get(key) ?? []), ...responses]);
  }

  failAlways(key: string, spec: Spec): void {
    this.always.set(key, spec);
  }

  /** The failure to answer this request with, if any. */
  next(key: string): Spec | undefined {
    const queue = this.once.get(key);
    const spec = queue?.shift();
    if (queue && queue.length === 0) this.once.delete(key);
    return spec ?? this.always.get(key);
  }

  clear(): void {
    this.once.clear();
    this.always.clear();
  }
}
