/**
 * Topics of commitments, by meaning: each topic is described by a few phrases a town official
 * would use for it; the phrases are embedded once with the service's model, and a commitment goes
 * to the topic whose phrases are closest to its sentence (whose embedding the index already holds),
 * nudged by the words its own clause shares with a topic's phrases (a sentence can hold two topics).
 * Measured alternatives that did worse on the labelled set: embedding each clause on its own, and
 * mixing in the embedding of the section's heading (docs/benchmarks.md).
 */
import type { Embedder } from '../embed/embedder.js';
import type { LoadedIndex } from '../index/store.js';
import type { Tokenizer } from '../text/tokenize.js';
import type { TopicClassifier, TopicInput } from './extract.js';
import { TOPICS, type Topic } from '../domain/commitment.js';

/** A few descriptive phrases per topic. 其他 has none: it is what nothing else fits. */
export const TOPIC_PROTOTYPES: Readonly<Record<Exclude<Topic, '其他'>, readonly string[]>> = {
  经济发展: [
    '招商引资,推进重大产业项目签约、开工和投产,完成工业投资和固定资产投资',
    '培育规上企业、专精特新企业和上市后备企业,做好企业服务,优化营商环境',
    '推动传统产业转型升级、智能化改造和数字化转型,壮大产业集群和产业链',
    '地区生产总值、一般公共预算收入、工业总产值和服务业增加值等经济指标',
    '盘活低效工业用地和闲置载体,推出经营性用地出让,完成土地收入',
  ],
  科技创新: [
    '培育高新技术企业和科技型中小企业,新增省市级研发机构和工程技术研究中心',
    '引进领军人才和高层次人才,申报人才项目,建设人才公寓',
    '建设孵化器、加速器和科创载体,推动产学研合作和科技成果转化',
  ],
  城乡建设: [
    '推进城市更新和片区开发,完成地块拆迁腾空和征收安置',
    '安置房建设交付,办理产权登记和分割发证',
    '编制国土空间规划和片区城市设计,完善城镇功能布局',
    '建设市政管网、天然气入户和农贸市场等基础设施',
    '创建文明城市,开展市容环境整治和城市长效管理',
  ],
  交通: [
    '新建和改造道路工程,维修桥梁,打通断头路',
    '建设公共停车场、停车位和新能源汽车充电桩',
    '轨道交通、公交线路和交通路网建设',
  ],
  生态环境: [
    '打好蓝天碧水净土保卫战,治理大气污染,控制PM2.5和臭氧浓度',
    '整治河道和小微水体,治理水环境和污水,确保断面水质稳定达标',
    '整改环保督察反馈问题,整治散乱污企业,处置固废危废',
    '建设生态廊道、口袋公园和绿化,推行垃圾分类',
  ],
  农业农村: [
    '建设高标准农田和现代农业示范园,稳定粮食和蔬菜生产',
    '建设美丽乡村和特色田园乡村,整治农村人居环境',
    '发展壮大村级集体经济,管好集体资产,促进农民增收',
    '打造农产品品牌,延伸农业产业链',
  ],
  教育: ['新建和改扩建学校、幼儿园,优化教育资源配置', '加强教师队伍建设,提高办学质量'],
  医疗卫生: [
    '建设医院和卫生院,改造病房和门诊,提升医疗服务',
    '推进家庭医生签约和公共卫生服务,做好居民健康管理',
    '创建健康村,建设健康步道,开展健康促进',
  ],
  养老与社会保障: [
    '完善养老服务,建设日间照料中心,开展老年人助餐',
    '做好社会救助,帮扶困难群众、残疾人和困境儿童',
    '扩大社会保险参保,落实退役军人优抚优待',
  ],
  就业: ['做好就业创业服务,开展职业技能培训和专场招聘会', '稳定高校毕业生就业,控制城镇登记失业率'],
  文化旅游: [
    '举办群众文化活动,建设文体中心和全民健身设施',
    '发展乡村旅游、民宿和农文旅融合项目',
    '保护修缮文物古迹,传承历史文化',
    '建设新时代文明实践阵地,开展志愿服务和文明家庭评选',
  ],
  社会治理与平安: [
    '深化网格化社会治理,调解化解矛盾纠纷',
    '完善治安防控体系,增加视频监控,防范电信网络诈骗',
    '化解信访积案,维护社会稳定',
    '规范综合行政执法,建设执法队伍,开展普法宣传',
    '完善集成指挥平台和联动处置机制',
  ],
  安全生产: [
    '开展安全生产大检查和隐患排查整治,压实安全生产责任',
    '整治危险化学品、自建房和燃气安全隐患,建设消防救援力量',
    '推进道路交通安全和应急管理体系建设',
  ],
  政务服务: [
    '优化政务服务大厅和办事窗口,推行一网通办和全城通办',
    '深化审批服务改革,提供便民服务和上门帮办代办',
    '依法行政,办理人大代表建议和政协提案',
  ],
  党建与作风: [
    '加强党建引领和基层党组织建设,打造党建品牌',
    '开展党员干部教育培训,锻造干部队伍',
    '加强党风廉政建设和作风建设,压减三公经费',
    '学习贯彻党的二十大精神,开展主题教育',
  ],
  疫情防控: ['做好新冠肺炎疫情防控,推进疫苗接种和核酸检测'],
};

/** The prototype phrases with their embeddings: computed once per model. */
export interface TopicPrototypes {
  topics: Topic[];
  phrases: string[];
  vectors: Float32Array[];
}

/** Embeds the prototype phrases (about 50 short texts: a second or two on a laptop CPU). */
export async function embedTopicPrototypes(embedder: Embedder): Promise<TopicPrototypes> {
  const topics: Topic[] = [];
  const phrases: string[] = [];
  for (const [topic, list] of Object.entries(TOPIC_PROTOTYPES) as Array<[Topic, readonly string[]]>) {
    for (const phrase of list) {
      topics.push(topic);
      phrases.push(phrase);
    }
  }
  return { topics, phrases, vectors: await embedder.embedDocuments(phrases) };
}

export interface TopicClassifierOptions {
  prototypes: TopicPrototypes;
  /** The stored embedding of a sentence, by document and start offset (undefined when not indexed). */
  sentenceVector: (docId: string, start: number) => Float32Array | undefined;
  tokenizer: Tokenizer;
  /**
   * Weight of the clause's words shared with a topic's phrases, added to the sentence's similarity.
   * Default 0.03 (chosen on the labelled set; 0 to 0.06 are within a point of each other).
   */
  cueWeight?: number;
  /** Below this best similarity (and with no cue word), a commitment is 其他. Default 0.45. */
  minSimilarity?: number;
}

/** Finds each sentence's stored embedding by document and start offset. */
export function sentenceVectorLookup(index: Pick<LoadedIndex, 'chunks' | 'sentenceRows' | 'sentenceEmbeddings'>): (docId: string, start: number) => Float32Array | undefined {
  const rows = new Map<string, number>();
  index.chunks.forEach((chunk, i) => {
    chunk.sentences.forEach(([start], k) => rows.set(`${chunk.docId}@${start}`, index.sentenceRows[i]! + k));
  });
  return (docId, start) => {
    const row = rows.get(`${docId}@${start}`);
    return row === undefined ? undefined : index.sentenceEmbeddings[row];
  };
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Scores of every topic for one commitment (exported for diagnostics and tests). */
export function scoreTopics(input: TopicInput, options: TopicClassifierOptions): Map<Topic, number> {
  const { prototypes, tokenizer } = options;
  const cueWeight = options.cueWeight ?? 0.03;
  const vector = options.sentenceVector(input.docId, input.sentenceStart);
  const scores = new Map<Topic, number>();
  if (vector) {
    prototypes.vectors.forEach((v, i) => {
      const topic = prototypes.topics[i]!;
      scores.set(topic, Math.max(scores.get(topic) ?? -1, dot(vector, v)));
    });
  }
  const cues = cueIndex(prototypes, tokenizer);
  for (const token of new Set(tokenizer.tokenize(input.clause))) {
    const entry = cues.get(token);
    if (!entry) continue;
    for (const topic of entry) scores.set(topic, (scores.get(topic) ?? 0) + cueWeight / entry.size);
  }
  return scores;
}

const cueCache = new WeakMap<TopicPrototypes, Map<string, Set<Topic>>>();

/** Which topics' phrases hold each word (a word of one topic only is a strong cue). */
function cueIndex(prototypes: TopicPrototypes, tokenizer: Tokenizer): Map<string, Set<Topic>> {
  let index = cueCache.get(prototypes);
  if (!index) {
    index = new Map();
    prototypes.phrases.forEach((phrase, i) => {
      for (const token of tokenizer.tokenize(phrase)) {
        if (token.length < 2) continue;
        const set = index!.get(token) ?? new Set<Topic>();
        set.add(prototypes.topics[i]!);
        index!.set(token, set);
      }
    });
    cueCache.set(prototypes, index);
  }
  return index;
}

/** A classifier over the stored sentence embeddings and the clause's words. */
export function createTopicClassifier(options: TopicClassifierOptions): TopicClassifier {
  const minSimilarity = options.minSimilarity ?? 0.45;
  return (input) => {
    const scores = scoreTopics(input, options);
    let best: Topic = '其他';
    let bestScore = -Infinity;
    for (const topic of TOPICS) {
      const score = scores.get(topic);
      if (score !== undefined && score > bestScore) {
        best = topic;
        bestScore = score;
      }
    }
    return bestScore >= minSimilarity ? best : '其他';
  };
}
