import { datasetSuite } from '../testing/dataset-suite';

datasetSuite(['bluebirds', 'cf', 'dog', 'face', 'possent', 'product', 'rte', 'sp', 'wsd']);
