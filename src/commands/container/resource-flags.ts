// The cgroup limit flags run, create and update share, passed to the engine by Podman's names.
import { Option } from '../kit.js';
import { TspodCommand } from '../base.js';

export abstract class ResourceFlags extends TspodCommand {
  memory = Option.String('-m,--memory', { description: 'Memory limit, e.g. 512m (limits need root or a delegated cgroup v2; elsewhere a warning says they are ignored)' });
  memorySwap = Option.String('--memory-swap', { description: 'Memory plus swap limit (-1: unlimited)' });
  memoryReservation = Option.String('--memory-reservation', { description: 'Memory soft limit' });
  cpus = Option.String('--cpus', { description: 'Number of CPUs, e.g. 1.5' });
  cpuShares = Option.String('-c,--cpu-shares', { description: 'CPU shares (relative weight)' });
  cpusetCpus = Option.String('--cpuset-cpus', { description: 'CPUs in which to allow execution (0-3, 0,1)' });
  cpusetMems = Option.String('--cpuset-mems', { description: 'Memory nodes in which to allow execution (0-3, 0,1)' });
  pidsLimit = Option.String('--pids-limit', { description: 'Tune container pids limit (-1: unlimited)' });
  blkioWeight = Option.String('--blkio-weight', { description: 'Block IO weight (relative weight) from 10 to 1000' });

  protected resourceFlags(): Record<string, string | undefined> {
    return {
      memory: this.memory, 'memory-swap': this.memorySwap, 'memory-reservation': this.memoryReservation, cpus: this.cpus, 'cpu-shares': this.cpuShares,
      'cpuset-cpus': this.cpusetCpus, 'cpuset-mems': this.cpusetMems, 'pids-limit': this.pidsLimit, 'blkio-weight': this.blkioWeight,
    };
  }
}
