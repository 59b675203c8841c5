import { parseCapabilityRequirements } from '../devices/capability-requirements';
import { parseTagSelector } from '../devices/tag-selector';
import { capabilitiesMatch, tagsMatch } from './selector-match';

function tagRequirements(selector: string) {
  const parsed = parseTagSelector(selector);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.requirements;
}

function capabilityRequirements(text: string) {
  const parsed = parseCapabilityRequirements(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.requirements;
}

describe('tagsMatch', () => {
  it('applies equality, inequality (absent counts as different), existence and absence', () => {
    const requirements = tagRequirements('site=lab,camera!=csi,gpu,!retired');
    expect(tagsMatch(requirements, { site: 'lab', gpu: '' })).toBe(true);
    expect(tagsMatch(requirements, { site: 'lab', gpu: '', camera: 'usb' })).toBe(true);
    expect(tagsMatch(requirements, { site: 'lab', gpu: '', camera: 'csi' })).toBe(false);
    expect(tagsMatch(requirements, { site: 'lab' })).toBe(false);
    expect(tagsMatch(requirements, { site: 'lab', gpu: '', retired: 'yes' })).toBe(false);
    expect(tagsMatch([], {})).toBe(true);
  });
});

describe('capabilitiesMatch', () => {
  const capabilities = {
    detectorBackends: ['tensorrt', 'cpu'],
    jetsonModel: 'NVIDIA Jetson Nano',
    os: { platform: 'linux' },
    cpuCores: 4,
  };

  it('matches list members, nested keys and numbers as text', () => {
    expect(
      capabilitiesMatch(capabilityRequirements('backend=tensorrt,os.platform=linux'), capabilities),
    ).toBe(true);
    expect(capabilitiesMatch(capabilityRequirements('cpuCores=4'), capabilities)).toBe(true);
    expect(capabilitiesMatch(capabilityRequirements('backend=cuda'), capabilities)).toBe(false);
    expect(capabilitiesMatch(capabilityRequirements('os.release=5'), capabilities)).toBe(false);
    expect(capabilitiesMatch(capabilityRequirements('arch=arm64'), null)).toBe(false);
  });
});
