export {
  expectGoldenSamplesValid,
  type GoldenSampleResult,
  type GoldenSamplesOptions,
  type GoldenSamplesReport,
  type GoldenSamplesRequirement,
  verifyGoldenSamples,
} from './golden-samples.js';
