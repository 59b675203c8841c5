import type { components } from './generated/schema';

type Schemas = components['schemas'];

/** Names for the answers of the API, straight from its OpenAPI document (see generated/schema.d.ts). */
export type CurrentToken = Schemas['CurrentTokenDto_Output'];
export type Role = CurrentToken['role'];
export type Device = Schemas['DeviceDto_Output'];
export type DeviceList = Schemas['DeviceListDto_Output'];
export type DeviceUpdate = Schemas['UpdateDeviceDto'];
export type DeviceJob = Schemas['DeviceJobDto_Output'];
export type DeviceJobList = Schemas['DeviceJobListDto_Output'];
export type DeviceJobDetail = Schemas['DeviceJobDetailDto_Output'];
export type FleetSummary = Schemas['FleetSummaryDto_Output'];
export type FleetSeries = Schemas['FleetSeriesDto_Output'];
export type FleetPoint = FleetSeries['points'][number];
export type DeviceSeries = Schemas['DeviceSeriesDto_Output'];
export type DevicePoint = DeviceSeries['points'][number];
export type EventList = Schemas['EventListDto_Output'];
export type EmotionEvent = EventList['items'][number];
export type EventAggregates = Schemas['EventAggregatesDto_Output'];
export type ModelList = Schemas['ModelListDto_Output'];
export type ModelSummary = ModelList['items'][number];
export type ModelVersionSummary = Schemas['ModelVersionListDto_Output']['items'][number];
export type ModelVersionDetail = Schemas['ModelVersionDetailDto_Output'];
export type LayerAnalysis = ModelVersionDetail['analysis']['layers'][number];
export type PipelineJob = Schemas['PipelineJobDto_Output'];
export type CreateRollout = Schemas['CreateRolloutDto'];
export type RolloutPreview = Schemas['RolloutPreviewDto_Output'];
export type RolloutDetail = Schemas['RolloutDetailDto_Output'];
export type RolloutSummary = Schemas['RolloutListDto_Output']['items'][number];
export type RolloutTarget = RolloutDetail['targets'][number];
export type RolloutPhase = RolloutDetail['phaseDetails'][number];
export type RolloutEvent = Schemas['RolloutEventListDto_Output']['items'][number];
