import { dirname, join } from 'path';

/** The demo video made from face-api's six sample photos: each one 4 s, zooming in or panning, 640x480 at 15 FPS. */
export const FACEAPI_DEMO_VIDEO = {
  width: 640,
  height: 480,
  fps: 15,
  secondsPerPhoto: 4,
} as const;

/** The installed `@vladmandic/face-api` package: its `model/` folder and its six demo photos. */
export interface FaceapiPackage {
  readonly directory: string;
  readonly modelDir: string;
  readonly photos: readonly string[];
}

/**
 * Where `@vladmandic/face-api` is installed (a dev dependency of this repository); throws the resolver's error
 * (code MODULE_NOT_FOUND) when it is not.
 */
export function locateFaceapiPackage(): FaceapiPackage {
  const directory = dirname(require.resolve('@vladmandic/face-api/package.json'));
  return {
    directory,
    modelDir: join(directory, 'model'),
    photos: [1, 2, 3, 4, 5, 6].map((n) => join(directory, 'demo', `sample${n}.jpg`)),
  };
}

/**
 * ffmpeg arguments that make the demo video from `photos`: every photo is scaled and cropped to 4:3 (1920x1440),
 * then shown for FACEAPI_DEMO_VIDEO.secondsPerPhoto seconds with a slow 1x → 1.25x zoom into its centre (even
 * positions) or a left-to-right pan at 1.25x (odd positions), at 640x480, concatenated, H.264 (yuv420p).
 */
export function faceapiDemoVideoArguments(photos: readonly string[], output: string): string[] {
  const { width, height, fps, secondsPerPhoto } = FACEAPI_DEMO_VIDEO;
  const frames = fps * secondsPerPhoto;
  const last = frames - 1;
  const clips = photos.map((_, index) => {
    const motion =
      index % 2 === 0
        ? `z='1+0.25*on/${last}':x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2'`
        : `z='1.25':x='(iw-iw/zoom)*on/${last}':y='(ih-ih/zoom)/2'`;
    return (
      `[${index}:v]scale=1920:1440:force_original_aspect_ratio=increase,crop=1920:1440,` +
      `zoompan=${motion}:d=${frames}:s=${width}x${height}:fps=${fps},setsar=1[v${index}]`
    );
  });
  const joined = photos.map((_, index) => `[v${index}]`).join('');
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...photos.flatMap((photo) => ['-i', photo]),
    '-filter_complex',
    `${clips.join(';')};${joined}concat=n=${photos.length}:v=1:a=0,format=yuv420p[out]`,
    ...['-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-movflags', '+faststart'],
    ...['-y', output],
  ];
}
