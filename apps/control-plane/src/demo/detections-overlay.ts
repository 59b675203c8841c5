import { existsSync } from 'node:fs';
import { type Detection } from '@emofleet/detector';

const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** Text safe inside a quoted ffmpeg filter argument: letters, digits, spaces and a few marks. */
function filterText(text: string): string {
  return text.replace(/[^A-Za-z0-9 .%()-]/g, '');
}

/**
 * An ffmpeg filter that draws each detection's box and `label score` (and the face score) onto the image, sized
 * for an image `width` pixels wide: drawbox + drawtext (Debian's ffmpeg, DejaVu fonts when installed).
 */
export function detectionsOverlayFilter(detections: readonly Detection[], width: number): string {
  const thickness = Math.max(2, Math.round(width / 400));
  const fontSize = Math.max(14, Math.round(width / 60));
  const font = existsSync(FONT_FILE) ? `fontfile=${FONT_FILE}` : 'font=Sans';
  const filters = detections.flatMap((detection) => {
    const x = Math.round(detection.box.x);
    const y = Math.round(detection.box.y);
    const faceScore = detection.classification?.detectorScore;
    const caption = filterText(
      `${detection.label} ${(detection.score * 100).toFixed(0)}%` +
        (faceScore === undefined ? '' : ` (face ${(faceScore * 100).toFixed(0)}%)`),
    );
    return [
      `drawbox=x=${x}:y=${y}:w=${Math.round(detection.box.width)}:h=${Math.round(detection.box.height)}:` +
        `color=lime@0.9:t=${thickness}`,
      `drawtext=${font}:expansion=none:text='${caption}':x=${x}:y=max(0\\,${y}-${fontSize + 2 * thickness}):` +
        `fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.65:boxborderw=${thickness}`,
    ];
  });
  return filters.length > 0 ? filters.join(',') : 'null';
}
