import { type Scenario } from '../scenario';
import { agentKillDuringDownload } from './agent-kill-download';
import { agentKillDuringInstall } from './agent-kill-install';
import { agentKillWithFullSpool } from './agent-kill-full-spool';
import { apiKillDuringConversion } from './api-kill-conversion';
import { apiKillDuringRollout } from './api-kill-rollout';
import { brokerRestart } from './broker-restart';
import { clockJump } from './clock-jump';
import { diskFullSpool } from './disk-full-spool';
import { networkPartition } from './network-partition';
import { postgresRestart } from './postgres-restart';
import { redisRestart } from './redis-restart';
import { workerKillDuringConversion } from './worker-kill-conversion';
import { workerKillDuringRollout } from './worker-kill-rollout';

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  brokerRestart,
  redisRestart,
  postgresRestart,
  apiKillDuringConversion,
  workerKillDuringConversion,
  apiKillDuringRollout,
  workerKillDuringRollout,
  agentKillDuringDownload,
  agentKillDuringInstall,
  agentKillWithFullSpool,
  networkPartition,
  diskFullSpool,
  clockJump,
];
