// @tally/quality — hidden gold, reliability, qualifications, quality rules, dynamic overlap inputs, exports.
export { QualityModule } from './quality.module';
export { QualityControlService, GOLD_FAILED_REASON, DEFAULT_TEST_RETRY_SECONDS } from './quality-control.service';
export { ReestimateService, REESTIMATE_EVERY_MS, binomialTail } from './reestimate.service';
export { consensusAsAnswer } from './consensus-answer';
export type { ReestimateReport } from './reestimate.service';
export { ReliabilityService } from './reliability.service';
export type { CampaignReliability, GlobalReliability, Interval } from './reliability.service';
export { QualityAdminService } from './quality-admin.service';
export type { RuleLogEntry, QualityFlag, Qualification, Caller } from './quality-admin.service';
export { ResultsService, RESULT_FORMATS, csvCell } from './results.service';
export type { ResultFormat, TaskResult, CampaignResultsSummary } from './results.service';
export { DEFAULT_RULES, mergeRules, rulesOf } from './rules';
export type { QualityRules, RuleAction } from './rules';
export { answersMatch, wilson, median, BOX_IOU_THRESHOLD } from './grading';
export { QualityErrors } from './errors';
