export * from './ffmpeg-frame-source';
export * from './frame-source-spec';
export * from './image-decoder';
export * from './image-directory-source';
export * from './latest-frame-slot';
export * from './raw-frame';
export * from './synthetic-frame-source';
