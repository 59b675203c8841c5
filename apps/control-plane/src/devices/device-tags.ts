import { z } from 'zod';

/**
 * Device tags are `key=value` labels (`site=lab`, `camera=csi`). Keys and values avoid the characters of the
 * tag selector syntax (`,`, `=`, `!`) and whitespace, so every tag can be written in a selector.
 */
export const TAG_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
export const TAG_VALUE_PATTERN = /^[A-Za-z0-9._:/@+-]{0,63}$/;
export const MAX_TAGS = 32;

export const tagKeySchema = z
  .string()
  .regex(
    TAG_KEY_PATTERN,
    'tag keys are 1-63 letters, digits, ".", "_", "/", "-", starting with a letter or digit',
  );

export const tagValueSchema = z
  .string()
  .regex(TAG_VALUE_PATTERN, 'tag values are 0-63 letters, digits, ".", "_", ":", "/", "@", "+", "-"');

export const tagsSchema = z
  .record(tagKeySchema, tagValueSchema)
  .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`);
