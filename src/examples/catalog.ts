/** The example workloads of images/: what each one builds, applies and serves. */
import { UnknownExampleError } from './errors.js';

export interface ExampleImage {
  /** the SIF's name in the examples folder */
  name: string;
  /** the definition file, relative to images/ */
  definition: string;
  /** the name pods use (imagePullPolicy: Never) */
  tag: string;
}

export interface Example {
  name: string;
  /** what it shows, one line */
  summary: string;
  images: ExampleImage[];
  /** the manifest file, relative to images/ */
  manifest: string;
  /** the Deployments whose rollout means "serving" */
  deployments: string[];
  /** the NodePort the host opens, and the path worth opening */
  nodePort: number;
  path: string;
  /** folders of examples/NAME/ in the cluster's state folder that its pods mount (the host sees them) */
  hostFolders: string[];
  /** the container that asks for a GPU under --gpu */
  gpuContainer?: { deployment: string; container: string };
}

/** The image every example starts from (`Bootstrap: localimage`, `From: {{ BASE }}`). */
export const BASE_IMAGE = { name: 'base', definition: 'base/base.def' };

const image = (name: string, definition: string): ExampleImage => ({ name, definition, tag: `examples.sifkube.io/${name}:latest` });

export const EXAMPLES: readonly Example[] = [
  {
    name: 'cats',
    summary: 'an HTTP file server of real cat photographs (/cats/good) behind a port-80 Service',
    images: [image('cats', 'cats/cats.def')],
    manifest: 'cats/cats.yaml',
    deployments: ['cats'],
    nodePort: 30180,
    path: '/cats/good',
    hostFolders: [],
  },
  {
    name: 'books',
    summary: 'the bookshelf REST API (/books) backed by PostgreSQL with its data on a volume',
    images: [image('books-db', 'books/books-db.def'), image('books', 'books/books.def')],
    manifest: 'books/books.yaml',
    deployments: ['books-db', 'books'],
    nodePort: 30181,
    path: '/books',
    hostFolders: [],
  },
  {
    name: 'tensorflow',
    summary: 'object detection (TensorFlow.js, COCO CenterNet): a web page, POST /classify, host in/out folders',
    images: [image('tensorflow', 'tensorflow/tensorflow.def')],
    manifest: 'tensorflow/tensorflow.yaml',
    deployments: ['tensorflow'],
    nodePort: 30182,
    path: '/',
    hostFolders: ['in', 'out'],
    gpuContainer: { deployment: 'tensorflow', container: 'tensorflow' },
  },
];

export function findExample(name: string): Example {
  const found = EXAMPLES.find((e) => e.name === name);
  if (!found) throw new UnknownExampleError(name, EXAMPLES.map((e) => e.name));
  return found;
}
