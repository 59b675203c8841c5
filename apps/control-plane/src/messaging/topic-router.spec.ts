import { topicMatches, TopicRouter } from './topic-router';

describe('topicMatches', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a', false],
    ['a/+', 'a/', true],
    ['+/+', 'a/b', true],
    ['+', '', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'b/a', false],
    ['#', 'anything/at/all', true],
    ['+/#', 'a', true],
    ['a/+/c/#', 'a/x/c', true],
    ['a/+/c/#', 'a/x/d/e', false],
    ['p/v1/devices/+/events', 'p/v1/devices/cam-1/events', true],
    ['p/v1/devices/+/events', 'p/v1/devices/cam-1/events/ack', false],
  ])('%s against %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('TopicRouter', () => {
  it('routes exactly as topicMatches does, for every filter and topic over a small alphabet', () => {
    const levels = ['a', 'b', ''];
    const topics = allPaths(levels, 4);
    const filters = allPaths([...levels, '+', '#'], 4);
    const router = new TopicRouter<string>();
    for (const filter of filters) router.add(filter, filter);
    for (const topic of topics) {
      const expected = filters.filter((filter) => topicMatches(filter, topic)).sort();
      expect({ topic, filters: router.match(topic).sort() }).toEqual({ topic, filters: expected });
    }
  });

  it('gives each target of a filter once per match, and several targets of one filter', () => {
    const router = new TopicRouter<string>();
    router.add('x/+/birth', 'presence');
    router.add('x/+/birth', 'rollouts');
    router.add('x/#', 'everything');
    router.add('x/+/state', 'presence');
    expect(router.match('x/d1/birth').sort()).toEqual(['everything', 'presence', 'rollouts']);
    expect(router.match('x/d1/state').sort()).toEqual(['everything', 'presence']);
    expect(router.match('y/d1/birth')).toEqual([]);
  });

  it('matches nothing when empty', () => {
    const router = new TopicRouter<number>();
    expect(router.isEmpty).toBe(true);
    expect(router.match('a/b')).toEqual([]);
    router.add('a/b', 1);
    expect(router.isEmpty).toBe(false);
  });
});

/** Every `/`-joined path of 1..`depth` levels drawn from `levels`. */
function allPaths(levels: readonly string[], depth: number): string[] {
  let layer = levels.map((level) => [level]);
  const paths = [...layer];
  for (let length = 2; length <= depth; length += 1) {
    layer = layer.flatMap((path) => levels.map((level) => [...path, level]));
    paths.push(...layer);
  }
  return paths.map((path) => path.join('/'));
}
