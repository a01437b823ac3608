/** True while a process with this pid exists (a zombie that is not reaped yet still does). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
