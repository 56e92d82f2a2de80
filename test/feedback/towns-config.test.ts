/**
 * config/towns.json and its validation: a bad file stops the start with the file and the field
 * named; the shipped file names only towns the corpus has, and each preset question is answered.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTownsConfig, parseTownsConfig, settingsFor } from '../../src/towns-config.js';
import { openTestService } from '../services.js';

const SHIPPED = path.resolve('config/towns.json');

describe('town settings', () => {
  it('refuses a bad file with the file and the field named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-towns-'));
    try {
      const file = path.join(dir, 'towns.json');
      fs.writeFileSync(file, '{"towns": {"梅李镇": {"presets": "不是列表"}}}');
      expect(() => loadTownsConfig(file)).toThrow(/towns\.json: invalid town settings: towns\.梅李镇\.presets: /);
      fs.writeFileSync(file, '{"towns": {"梅李镇": {"welcom": "拼错了"}}}');
      expect(() => loadTownsConfig(file)).toThrow(/towns\.梅李镇: .*welcom/);
      fs.writeFileSync(file, '{"towns": ');
      expect(() => loadTownsConfig(file)).toThrow(/towns\.json: town settings are not valid JSON/);
      fs.writeFileSync(file, JSON.stringify({ default: { contact: 'x'.repeat(201) } }));
      expect(() => loadTownsConfig(file)).toThrow(/default\.contact/);
      // No file at all: no settings, not an error.
      expect(loadTownsConfig(path.join(dir, 'missing.json'))).toEqual({ default: {}, towns: {} });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lays a town\'s settings over the defaults', () => {
    const config = parseTownsConfig({ default: { contact: '12345', hours: '全天' }, towns: { 梅李镇: { contact: '镇政府办公室' } } });
    expect(settingsFor(config, '梅李')).toEqual({ contact: '镇政府办公室', hours: '全天' });
    expect(settingsFor(config, '临湖镇')).toEqual({ contact: '12345', hours: '全天' });
    expect(settingsFor(config, undefined)).toEqual({ contact: '12345', hours: '全天' });
  });

  it('ships settings for the corpus towns only, each preset answered by the service', async () => {
    const { service } = await openTestService();
    const config = loadTownsConfig(SHIPPED);
    expect(Object.keys(config.towns).sort()).toEqual([...service.towns].sort());
    for (const [town, settings] of Object.entries(config.towns)) {
      expect(settings.contact).toBeTruthy();
      for (const question of settings.presets ?? []) {
        const answer = await service.ask({ question, filters: { town } });
        expect({ question, status: answer.status }).toEqual({ question, status: 'answered' });
      }
    }
  });
});
