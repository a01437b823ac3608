import { Injectable } from '@nestjs/common';
import { BoxConfig } from '../../config/box-config.js';
import { SequenceAllocator } from './sequence.allocator.js';

/** The box's one sequence for every device message (`seq`), persisted in the state dir. */
@Injectable()
export class SequenceService {
  private allocator: SequenceAllocator | undefined;

  constructor(private readonly config: BoxConfig) {}

  /** Opens the high-water mark file; called once the state dir exists. */
  open(): void {
    this.allocator ??= new SequenceAllocator(this.config.stateDir);
  }

  next(): number {
    if (!this.allocator) this.open();
    return this.allocator!.next();
  }
}
