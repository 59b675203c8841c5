import { dirname, join } from 'path';

/** The installed face-api package (a dev dependency): its `model/` and `demo/` folders. */
export const FACEAPI_PACKAGE_DIR = dirname(require.resolve('@vladmandic/face-api/package.json'));
export const FACEAPI_MODEL_DIR = join(FACEAPI_PACKAGE_DIR, 'model');
export const FACEAPI_DEMO_PHOTOS = [1, 2, 3, 4, 5, 6].map((n) =>
  join(FACEAPI_PACKAGE_DIR, 'demo', `sample${n}.jpg`),
);
