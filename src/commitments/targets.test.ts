import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChineseNumber } from '../domain/numbers.js';
import { baseValue, parseTargets } from './targets.js';

const brief = (text: string) => parseTargets(text).map((t) => ({ value: t.value, unit: t.unit, what: t.what, ...(t.qualifier ? { q: t.qualifier } : {}) }));

describe('parseChineseNumber', () => {
  it('reads the numerals reports use', () => {
    expect(parseChineseNumber('两')).toBe(2);
    expect(parseChineseNumber('十二')).toBe(12);
    expect(parseChineseNumber('二十')).toBe(20);
    expect(parseChineseNumber('一千三百六十四')).toBe(1364);
    expect(parseChineseNumber('三千一百六十')).toBe(3160);
    expect(parseChineseNumber('三万五千')).toBe(35000);
    expect(parseChineseNumber('二〇二三')).toBe(2023);
  });

  it('is not fooled by other characters', () => {
    expect(parseChineseNumber('十四五规划')).toBeUndefined();
    expect(parseChineseNumber('')).toBeUndefined();
  });

  it('reads back every number below ten thousand written the usual way', () => {
    const digits = '零一二三四五六七八九';
    const write = (n: number): string => {
      const units = ['', '十', '百', '千'];
      const parts = String(n).split('').map(Number);
      let out = '';
      parts.forEach((d, i) => {
        const unit = units[parts.length - 1 - i]!;
        if (d === 0) {
          if (!out.endsWith('零') && i < parts.length - 1 && parts.slice(i + 1).some((x) => x > 0)) out += '零';
        } else out += digits[d]! + unit;
      });
      return out.replace(/^一十/, '十');
    };
    fc.assert(fc.property(fc.integer({ min: 1, max: 9999 }), (n) => parseChineseNumber(write(n)) === n));
  });
});

describe('parseTargets', () => {
  it('takes the counted thing from after the figure (1364套安置房)', () => {
    expect(brief('年内完成1364套安置房的初始登记和分割发证')).toEqual([{ value: 1364, unit: '套', what: '安置房' }]);
  });

  it('takes it from before the figure in a list (“千村美居”村(组)20个、特色康居乡村12个)', () => {
    expect(parseTargets('建成“千村美居”村(组)20个、特色康居乡村12个', { objectStart: 2 }).map((t) => [t.value, t.unit, t.what])).toEqual([
      [20, '个', '“千村美居”村(组)'],
      [12, '个', '特色康居乡村'],
    ]);
  });

  it('keeps what follows a quoted name and reads 以上 as a minimum (化解率达80%以上)', () => {
    expect(brief('确保“信访突出问题攻坚化解年”化解率达80%以上')).toEqual([{ value: 80, unit: '%', what: '化解率', q: 'min' }]);
  });

  it('keeps 亿/万 in the unit and names the investment (计划投资14.3亿元)', () => {
    expect(brief('12个区级重点项目全年计划投资14.3亿元')).toEqual([
      { value: 12, unit: '个', what: '区级重点项目' },
      { value: 14.3, unit: '亿元', what: '计划投资' },
    ]);
  });

  it('reads qualifiers before and after the figure', () => {
    expect(brief('新增瞪羚企业超5家')[0]).toMatchObject({ value: 5, q: 'min' });
    expect(brief('城镇调查失业率控制在5%左右')[0]).toMatchObject({ value: 5, unit: '%', q: 'about' });
    expect(brief('引进人才科创项目不少于10个')[0]).toMatchObject({ value: 10, q: 'min' });
    expect(brief('失业率控制在3%以内')[0]).toMatchObject({ value: 3, q: 'max' });
  });

  it('reads Chinese numerals and ranges', () => {
    expect(brief('切实办好票决产生的八件民生实事项目')).toEqual([{ value: 8, unit: '件', what: '民生实事项目' }]);
    expect(parseTargets('新建3至5个口袋公园')[0]).toMatchObject({ value: 3, valueMax: 5, unit: '个' });
  });

  it('skips names, dates, versions and today’s figures', () => {
    for (const text of [
      '深入推进“333”提质增效达标区创建',
      '升级“出生一件事”2.0版',
      '围绕轨道交通5号线点位建设',
      '实现PM2.5和臭氧浓度“双控双减”',
      '加强配置24小时自助服务区',
      '分步推进四大功能片区建设',
      '贯彻落实三项制度',
      '实施“一企一档”等服务',
      '一户一档精准帮扶',
      '打造一批示范项目',
      '利用好现阶段20个二级网格、76个三级网格、378个微网格',
      '2023年是开局之年',
    ]) {
      expect(parseTargets(text), text).toEqual([]);
    }
  });

  it('gives offsets that point back at the figure in the document', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.integer({ min: 1, max: 99999 }), fc.constantFrom('个', '家', '亩', '套', '万元', '%'), fc.integer({ min: 0, max: 500 }), (prefix, n, unit, offset) => {
        const text = `${prefix.replace(/[\d“”]/g, '')}新增${n}${unit}`;
        const targets = parseTargets(text, { offset });
        const doc = ' '.repeat(offset) + text;
        return targets.every((t) => doc.slice(t.start, t.end) === t.text) && targets.some((t) => t.value === n && t.unit === unit);
      }),
    );
  });
});

describe('baseValue', () => {
  it('folds 亿 and 万 into the unit so figures compare', () => {
    expect(baseValue({ value: 1.2, unit: '亿元' })).toEqual({ value: 120_000_000, unit: '元' });
    expect(baseValue({ value: 12000, unit: '万元' })).toEqual({ value: 120_000_000, unit: '元' });
    expect(baseValue({ value: 6, unit: '万平方米' })).toEqual({ value: 60_000, unit: '平方米' });
    expect(baseValue({ value: 3, unit: '个' })).toEqual({ value: 3, unit: '个' });
  });
});
