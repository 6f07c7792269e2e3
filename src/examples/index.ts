export { EXAMPLES, BASE_IMAGE, findExample, type Example, type ExampleImage } from './catalog.js';
export { UnknownExampleError, ExampleFilesError, ExampleNotReadyError } from './errors.js';
export { imagesDir, sifDir } from './files.js';
export { renderManifest, clusterExampleDir } from './manifests.js';
export { runExample, deleteExample, listExamples, exampleBuilds, exampleUrl, type RunResult, type ExampleStatus, type Builder } from './deploy.js';
