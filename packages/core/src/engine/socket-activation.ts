/**
 * systemd socket activation (sd_listen_fds(3)): the listening sockets a service manager opened
 * and passed on, as file descriptors 3, 4, … with `LISTEN_FDS` (how many), `LISTEN_PID` (for
 * which process) and `LISTEN_FDNAMES` (their `FileDescriptorName=`, colon-separated). Pure: the
 * environment and process ids come in as values.
 */

import { RocketError } from '../errors.js';
import { fdSpec, type BindSpec } from './bind.js';

/** The first passed descriptor (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

export interface ActivatedSocket {
  fd: number;
  /** Its `FileDescriptorName=`; systemd's default is the socket unit's name. */
  name: string;
}

/**
 * The sockets passed to this process, or null when none were. `pids` are the processes they may
 * be meant for: this one, and in a cluster worker its primary, which inherited them and listens
 * for the workers.
 * @example
 * listenFds({ LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin' }, [42]);
 * // [{ fd: 3, name: 'http' }, { fd: 4, name: 'admin' }]
 */
export function listenFds(env: NodeJS.ProcessEnv, pids: readonly number[]): ActivatedSocket[] | null {
  const count = env.LISTEN_FDS;
  if (count === undefined || !/^\d+$/.test(count)) return null;
  const pid = env.LISTEN_PID;
  // Left in the environment of a child by a parent that did not unset them: not for us.
  if (pid !== undefined && !pids.includes(Number(pid))) return null;
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  return Array.from({ length: Number(count) }, (_, i) => ({ fd: FIRST_FD + i, name: names[i] ?? '' }));
}

/**
 * Replace every `systemd://[NAME]` interface with the passed sockets it means.
 * @throws {RocketError} ROCKET_ERR_INVALID_INTERFACE when none were passed or none has the name.
 */
export function expandActivated(specs: readonly BindSpec[], env: NodeJS.ProcessEnv, pids: readonly number[]): BindSpec[] {
  if (!specs.some((spec) => spec.systemd !== null)) return [...specs];
  const passed = listenFds(env, pids);
  return specs.flatMap((spec) => {
    if (spec.systemd === null) return [spec];
    if (passed === null || passed.length === 0) {
      throw new RocketError('ROCKET_ERR_INVALID_INTERFACE', `${spec.label}: no sockets were passed by systemd (LISTEN_FDS and LISTEN_PID are not set for this process)`);
    }
    const chosen = spec.systemd === '' ? passed : passed.filter((socket) => socket.name === spec.systemd);
    if (chosen.length === 0) {
      throw new RocketError('ROCKET_ERR_INVALID_INTERFACE', `${spec.label}: no socket passed by systemd is named ${JSON.stringify(spec.systemd)} (LISTEN_FDNAMES: ${JSON.stringify(env.LISTEN_FDNAMES ?? '')})`);
    }
    return chosen.map((socket) => fdSpec(socket.fd, socket.name));
  });
}
