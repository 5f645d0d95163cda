import { datasetSuite } from '../testing/dataset-suite';

datasetSuite(['adult', 'relevance']);
