// @tally/consensus — pure TypeScript aggregation of crowd answers (no framework, no database).
export { ConsensusError, type ConsensusErrorCode } from './errors';
export { compareLabels, sortLabels } from './labels';
export {
  type Answer,
  type GoldLabel,
  type RepeatPolicy,
  type EncodedAnswers,
  type EncodeOptions,
  type Crowd,
  type CategoricalInput,
  encodeAnswers,
  buildCrowd,
  toCrowd,
} from './crowd';
export { CategoricalFit, type CategoricalMethod } from './categorical/result';
export { MajorityVote, majorityVote, type CommonOptions, type Vote } from './categorical/majority-vote';
export { WeightedMajorityVote, type WeightedMajorityVoteOptions } from './categorical/weighted-majority-vote';
export { Wawa } from './categorical/wawa';
export { DawidSkene, type DawidSkeneOptions } from './categorical/dawid-skene';
export { OneCoinDawidSkene, type OneCoinDawidSkeneOptions } from './categorical/one-coin-dawid-skene';
export { Glad, type GladOptions } from './categorical/glad';
export { Mace, type MaceOptions } from './categorical/mace';
export { BayesianDawidSkene, type BayesianDawidSkeneOptions } from './categorical/bayesian-dawid-skene';
export { SharedAccuracy, type SharedAccuracyOptions } from './categorical/shared-accuracy';
export { AutoAggregator, type AutoOptions, type AutoCandidate, type CandidateScore, crossValidate } from './categorical/auto';
export { warmUpThreads, PARALLEL_MIN_ANSWERS } from './categorical/fused-em';
export { createEstimator, CATEGORICAL_METHODS, isCategoricalMethod, type CategoricalEstimator } from './categorical/estimators';
export { posteriorForTask, type TaskAnswer, type TaskPosterior, type PosteriorOptions } from './categorical/posterior';
export { aggregateMultiLabel, type MultiLabelAnswer, type MultiLabelOptions, type MultiLabelResult } from './categorical/multi-label';
export { type Box, type WorkerBoxes, type FusedBox, type BoxOptions, type BoxEvaluation, iou, aggregateBoxes, matchBoxes, evaluateBoxes } from './boxes';
export { type Span, type SpanAnswer, type SpanOptions, type SpanTaskResult, type PRF, spansToBio, bioToSpans, aggregateSpans, evaluateSpans, spanF1 } from './spans';
export { type TextAnswer, type TextOptions, type TextResult, editDistance, normalizedEditDistance, aggregateText } from './text';
export { aggregateNumeric } from './numeric';
export { percentAgreement, fleissKappa, krippendorffAlpha, cohenKappa, meanPairwiseIou, pairwiseSpanF1 } from './agreement';
export { evaluate, meanAbsoluteError, type Evaluation, type ClassScores } from './evaluation';
