// The toy corpus grammar: English sentences and their Chinese, built side by side.
//
// Each sentence family below picks words from the lexicon and writes both languages.
// Chinese word order differs from English in ways a model must learn to attend across:
//   He eats apples every day.            他每天吃苹果。        (time word after the subject)
//   He will buy two books tomorrow.      他明天会买两本书。    (会 = will, measure word 本)
//   Tom ate an apple yesterday.          汤姆昨天吃了一个苹果。 (了 = completed)
//   He didn't go to school yesterday.    他昨天没去学校。      (没 for the past, 不 otherwise)
//   He plays football in the park.       他在公园踢足球。      (place before the verb)
//   There are two cats in the room.      房间里有两只猫。      (the place comes first)
//   Does she like dogs?                  她喜欢狗吗？          (吗 makes a yes/no question)
// One English sentence always gets the same Chinese: the rules below are deterministic
// (for instance "very" is always 非常, a plain adjective always takes 很).
#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/corpus_generator.h"
#include "data/rng.h"

namespace qkv::data {

namespace {

// ---------------------------------------------------------------------------- lexicon

enum class Person { kI, kYou, kThirdSingular, kPlural };

struct Subject {
  const char* en;      // as a subject: "I", "he", "my father"
  const char* en_obj;  // as an object: "me", "him", "my father"
  const char* zh;
  Person person;
  int ref;  // who it is: subject and object must differ
};

const Subject kPeople[] = {
    {"I", "me", "我", Person::kI, 0},
    {"you", "you", "你", Person::kYou, 1},
    {"he", "him", "他", Person::kThirdSingular, 2},
    {"she", "her", "她", Person::kThirdSingular, 3},
    {"we", "us", "我们", Person::kPlural, 4},
    {"they", "them", "他们", Person::kPlural, 5},
    {"Tom", "Tom", "汤姆", Person::kThirdSingular, 6},
    {"Jerry", "Jerry", "杰瑞", Person::kThirdSingular, 7},
    {"Mary", "Mary", "玛丽", Person::kThirdSingular, 8},
    {"Lucy", "Lucy", "露西", Person::kThirdSingular, 9},
    {"Jack", "Jack", "杰克", Person::kThirdSingular, 10},
    {"Anna", "Anna", "安娜", Person::kThirdSingular, 11},
    {"my father", "my father", "我爸爸", Person::kThirdSingular, 12},
    {"my mother", "my mother", "我妈妈", Person::kThirdSingular, 13},
    {"the teacher", "the teacher", "老师", Person::kThirdSingular, 14},
    {"my friend", "my friend", "我的朋友", Person::kThirdSingular, 15},
    {"the children", "the children", "孩子们", Person::kPlural, 16},
};

struct Noun {
  const char* en;     // singular, or the mass noun
  const char* en_pl;  // plural; for a mass noun the container's plural ("cups")
  const char* zh;
  const char* mw;                   // measure word: 个 只 本 杯 …
  const char* kind;                 // picks the adjectives that fit (see kAdjectives)
  const char* container = nullptr;  // mass nouns: "cup" (of tea); nullptr = countable
};

const Noun kNouns[] = {
    {"apple", "apples", "苹果", "个", "fruit"},
    {"egg", "eggs", "鸡蛋", "个", "food"},
    {"orange", "oranges", "橙子", "个", "fruit"},
    {"banana", "bananas", "香蕉", "根", "fruit"},
    {"pear", "pears", "梨", "个", "fruit"},
    {"cake", "cakes", "蛋糕", "个", "cake"},
    {"sandwich", "sandwiches", "三明治", "个", "cake"},
    {"fish", "fish", "鱼", "条", "food"},
    {"cat", "cats", "猫", "只", "animal"},
    {"dog", "dogs", "狗", "只", "animal"},
    {"bird", "birds", "鸟", "只", "animal"},
    {"rabbit", "rabbits", "兔子", "只", "animal"},
    {"panda", "pandas", "熊猫", "只", "animal"},
    {"horse", "horses", "马", "匹", "animal"},
    {"book", "books", "书", "本", "book"},
    {"dictionary", "dictionaries", "词典", "本", "book"},
    {"newspaper", "newspapers", "报纸", "份", "paper"},
    {"letter", "letters", "信", "封", "paper"},
    {"song", "songs", "歌", "首", "song"},
    {"movie", "movies", "电影", "部", "movie"},
    {"pen", "pens", "笔", "支", "pen"},
    {"pencil", "pencils", "铅笔", "支", "pen"},
    {"umbrella", "umbrellas", "伞", "把", "thing"},
    {"chair", "chairs", "椅子", "把", "furniture"},
    {"key", "keys", "钥匙", "把", "small"},
    {"table", "tables", "桌子", "张", "furniture"},
    {"ticket", "tickets", "票", "张", "ticket"},
    {"map", "maps", "地图", "张", "thing"},
    {"photo", "photos", "照片", "张", "photo"},
    {"shirt", "shirts", "衬衫", "件", "clothes"},
    {"coat", "coats", "外套", "件", "clothes"},
    {"computer", "computers", "电脑", "台", "device"},
    {"phone", "phones", "手机", "部", "device"},
    {"watch", "watches", "手表", "块", "device"},
    {"bag", "bags", "包", "个", "thing"},
    {"box", "boxes", "盒子", "个", "thing"},
    {"car", "cars", "车", "辆", "vehicle"},
    {"bike", "bikes", "自行车", "辆", "vehicle"},
    {"flower", "flowers", "花", "朵", "flower"},
    {"rice", "bowls", "米饭", "碗", "meal", "bowl"},
    {"noodles", "bowls", "面条", "碗", "meal", "bowl"},
    {"bread", "slices", "面包", "片", "meal", "slice"},
    {"water", "glasses", "水", "杯", "drink", "glass"},
    {"milk", "glasses", "牛奶", "杯", "drink", "glass"},
    {"juice", "glasses", "果汁", "杯", "drink", "glass"},
    {"tea", "cups", "茶", "杯", "drink", "cup"},
    {"coffee", "cups", "咖啡", "杯", "drink", "cup"},
    {"beer", "bottles", "啤酒", "瓶", "drink", "bottle"},
};

const Noun& noun(const std::string& en) {
  for (const Noun& n : kNouns)
    if (en == n.en) return n;
  throw std::logic_error("corpus grammar: no noun '" + en + "'");
}

// Predicate adjectives by noun kind: "This car is fast." → 这辆车很快。
struct Adjective {
  const char* kinds;  // space-separated noun kinds, or "person"
  const char* en;
  const char* zh;
};

const Adjective kAdjectives[] = {
    {"person", "tall", "高"},
    {"person", "short", "矮"},
    {"person", "smart", "聪明"},
    {"person", "young", "年轻"},
    {"person", "busy", "忙"},
    {"person", "tired", "累"},
    {"person", "happy", "高兴"},
    {"person", "sad", "难过"},
    {"person", "hungry", "饿"},
    {"person", "thirsty", "渴"},
    {"person", "angry", "生气"},
    {"person", "cold", "冷"},
    {"animal fruit cake furniture thing vehicle clothes flower", "big", "大"},
    {"animal fruit cake furniture thing vehicle clothes flower", "small", "小"},
    {"book pen thing furniture vehicle clothes device", "new", "新"},
    {"book pen thing furniture vehicle clothes device", "old", "旧"},
    {"fruit book vehicle clothes device ticket drink", "expensive", "贵"},
    {"fruit book vehicle clothes device ticket", "cheap", "便宜"},
    {"animal", "cute", "可爱"},
    {"animal", "fat", "胖"},
    {"fruit cake drink", "sweet", "甜"},
    {"fruit cake food", "delicious", "好吃"},
    {"drink", "hot", "热"},
    {"book movie", "interesting", "有意思"},
    {"movie", "long", "长"},
    {"book furniture thing", "heavy", "重"},
    {"vehicle", "fast", "快"},
    {"clothes flower photo", "beautiful", "漂亮"},
    {"song", "beautiful", "好听"},  // a song is "good to hear", not "pretty"
};

// Adjectives that also go before a noun: "a big dog" → 一只大狗.
const Adjective kAttributive[] = {
    {"animal fruit cake thing vehicle", "big", "大"},
    {"animal fruit cake thing vehicle", "small", "小"},
    {"book pen thing vehicle clothes device", "new", "新"},
    {"book pen thing vehicle clothes device", "old", "旧"},
};

bool has_kind(const char* kinds, const std::string& kind) {
  const std::string list = std::string(" ") + kinds + " ";
  return list.find(" " + kind + " ") != std::string::npos;
}

// Transitive verbs with the objects that make sense for them.
struct Verb {
  const char* base;  // eat
  const char* s3;    // eats
  const char* past;  // ate
  const char* ing;   // eating
  const char* zh;    // 吃
  const char* objects;
  bool habitual;  // "He eats apples." makes sense
};

const Verb kVerbs[] = {
    {"eat", "eats", "ate", "eating", "吃",
     "apple egg orange banana pear cake sandwich fish rice noodles bread", true},
    {"drink", "drinks", "drank", "drinking", "喝", "water milk juice tea coffee beer", true},
    {"buy", "buys", "bought", "buying", "买",
     "apple orange banana cake flower book dictionary newspaper pen pencil umbrella chair table "
     "ticket map shirt coat computer phone watch bag car bike",
     true},
    {"sell", "sells", "sold", "selling", "卖", "book car bike computer phone watch flower apple",
     true},
    {"read", "reads", "read", "reading", "看", "book newspaper letter", true},
    {"write", "writes", "wrote", "writing", "写", "letter song book", true},
    {"sing", "sings", "sang", "singing", "唱", "song", true},
    {"watch", "watches", "watched", "watching", "看", "movie", true},
    {"borrow", "borrows", "borrowed", "borrowing", "借",
     "book dictionary pen pencil umbrella bike map", false},
    {"draw", "draws", "drew", "drawing", "画", "cat dog bird horse flower map", true},
    {"see", "sees", "saw", "seeing", "看见", "cat dog bird rabbit panda horse", false},
    {"find", "finds", "found", "finding", "找到", "key umbrella phone watch bag pen book", false},
};

// Verbs whose object is a person. {O} marks where the object goes in Chinese.
struct PersonVerb {
  const char* base;
  const char* s3;
  const char* past;     // nullptr: no past sentences (love, know …)
  const char* zh;       // 追{O}
  const char* zh_past;  // 追了{O}
};

const PersonVerb kPersonVerbs[] = {
    {"chase", "chases", "chased", "追{O}", "追了{O}"},
    {"help", "helps", "helped", "帮助{O}", "帮助了{O}"},
    {"love", "loves", nullptr, "爱{O}", nullptr},
    {"know", "knows", nullptr, "认识{O}", nullptr},
    {"like", "likes", nullptr, "喜欢{O}", nullptr},
    {"miss", "misses", nullptr, "想{O}", nullptr},
    {"wait for", "waits for", "waited for", "等{O}", "等了{O}"},
    {"call", "calls", "called", "给{O}打电话", "给{O}打电话了"},
    {"visit", "visits", "visited", "去看{O}", "去看了{O}"},
};

// Places a person can be at or go to.
struct Place {
  const char* en_at;  // "at school"
  const char* en_to;  // "to school"; "home" has no "to"
  const char* zh;     // 学校
  const char* key;    // short name the activities refer to
};

const Place kPlaces[] = {
    {"at home", "home", "家", "home"},
    {"at school", "to school", "学校", "school"},
    {"in the park", "to the park", "公园", "park"},
    {"in the library", "to the library", "图书馆", "library"},
    {"at the store", "to the store", "商店", "store"},
    {"at the hospital", "to the hospital", "医院", "hospital"},
    {"at the zoo", "to the zoo", "动物园", "zoo"},
    {"at the cinema", "to the cinema", "电影院", "cinema"},
    {"in Beijing", "to Beijing", "北京", "beijing"},
    {"in Shanghai", "to Shanghai", "上海", "shanghai"},
    {"in China", "to China", "中国", "china"},
};

// Activities: a verb with its fixed object, one Chinese verb-object word.
struct Activity {
  const char* base;  // "play"
  const char* s3;
  const char* past;
  const char* ing;
  const char* rest;  // "football" (may be empty)
  const char* zh;    // 踢足球
  const char* places;
};

const Activity kActivities[] = {
    {"swim", "swims", "swam", "swimming", "", "游泳", "school"},
    {"run", "runs", "ran", "running", "", "跑步", "park school"},
    {"sleep", "sleeps", "slept", "sleeping", "", "睡觉", "home"},
    {"work", "works", "worked", "working", "", "工作", "hospital school store beijing shanghai"},
    {"study", "studies", "studied", "studying", "", "学习", "school library home"},
    {"dance", "dances", "danced", "dancing", "", "跳舞", "school park"},
    {"cook", "cooks", "cooked", "cooking", "", "做饭", "home"},
    {"play", "plays", "played", "playing", "football", "踢足球", "park school"},
    {"play", "plays", "played", "playing", "basketball", "打篮球", "park school"},
    {"play", "plays", "played", "playing", "the piano", "弹钢琴", "home school"},
    {"play", "plays", "played", "playing", "games", "玩游戏", "home"},
    {"watch", "watches", "watched", "watching", "TV", "看电视", "home"},
    {"listen", "listens", "listened", "listening", "to music", "听音乐", "home"},
    {"do", "does", "did", "doing", "homework", "做作业", "home library school"},
    {"learn", "learns", "learned", "learning", "Chinese", "学中文", "school china beijing"},
    {"speak", "speaks", "spoke", "speaking", "English", "说英语", "school"},
    {"take", "takes", "took", "taking", "a walk", "散步", "park"},
    {"wash", "washes", "washed", "washing", "clothes", "洗衣服", "home"},
    {"clean", "cleans", "cleaned", "cleaning", "the room", "打扫房间", ""},
    {"drive", "drives", "drove", "driving", "", "开车", ""},
};

struct TimeWord {
  const char* en;
  const char* zh;
};
const TimeWord kHabitual[] = {{"every day", "每天"},
                              {"every morning", "每天早上"},
                              {"every evening", "每天晚上"},
                              {"every week", "每个星期"}};
const TimeWord kPast[] = {{"yesterday", "昨天"},        {"last night", "昨天晚上"},
                          {"this morning", "今天早上"}, {"last week", "上个星期"},
                          {"last year", "去年"},        {"yesterday morning", "昨天早上"}};
const TimeWord kFuture[] = {
    {"tomorrow", "明天"},  {"tonight", "今天晚上"},          {"next week", "下个星期"},
    {"next year", "明年"}, {"tomorrow morning", "明天早上"}, {"this evening", "今天晚上"}};
// Adverbs of frequency sit before the verb in both languages.
const TimeWord kFrequency[] = {
    {"often", "经常"}, {"always", "总是"}, {"sometimes", "有时候"}, {"usually", "通常"}};

// Things and animals can be in, on or under these.
struct Spot {
  const char* en;  // "in the box"
  const char* zh;  // 盒子里
};
const Spot kSpots[] = {{"in the room", "房间里"},   {"in the box", "盒子里"},
                       {"in the bag", "包里"},      {"in the car", "车里"},
                       {"on the table", "桌子上"},  {"on the chair", "椅子上"},
                       {"on the bed", "床上"},      {"under the table", "桌子下面"},
                       {"under the bed", "床下面"}, {"under the chair", "椅子下面"}};
const char* const kSpotThings =
    "cat dog rabbit bird book pen key phone watch apple ticket map photo letter";

const char* const kNumbersEn[] = {"a",   "two",   "three", "four", "five",
                                  "six", "seven", "eight", "nine", "ten"};
const char* const kNumbersZh[] = {"一", "两", "三", "四", "五", "六", "七", "八", "九", "十"};

// --------------------------------------------------------------------------- helpers

std::vector<std::string> words(const char* list) {
  std::vector<std::string> out;
  std::string w;
  for (const char* p = list;; ++p) {
    if (*p == ' ' || *p == '\0') {
      if (!w.empty()) out.push_back(w);
      w.clear();
      if (*p == '\0') return out;
    } else {
      w += *p;
    }
  }
}

template <typename T, size_t N>
const T& pick(const T (&items)[N], Rng& rng) {
  return items[rng.below(N)];
}
const std::string& pick(const std::vector<std::string>& items, Rng& rng) {
  return items[rng.below(items.size())];
}
bool coin(Rng& rng, int percent) { return rng.below(100) < static_cast<uint64_t>(percent); }

std::string sentence(std::string en, const char* end) {
  en[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(en[0])));
  return en + end;
}

std::string replace_object(std::string zh, const std::string& object) {
  return zh.replace(zh.find("{O}"), 3, object);
}

bool is_3sg(const Subject& s) { return s.person == Person::kThirdSingular; }
std::string be_now(const Subject& s) {
  return s.person == Person::kI ? "am" : is_3sg(s) ? "is" : "are";
}
std::string be_past(const Subject& s) {
  return (s.person == Person::kI || is_3sg(s)) ? "was" : "were";
}
std::string do_now(const Subject& s) { return is_3sg(s) ? "does" : "do"; }
std::string verb_now(const Subject& s, const char* base, const char* s3) {
  return is_3sg(s) ? s3 : base;
}

// "a big dog" / "two cups of tea"  ⇄  一只大狗 / 两杯茶
struct Phrase {
  std::string en, zh;
};
bool starts_with_vowel(const std::string& w) {
  return std::string("aeiou").find(w[0]) != std::string::npos;
}

Phrase counted(const Noun& n, int number, const char* adj_en = nullptr,
               const char* adj_zh = nullptr) {
  Phrase p;
  std::string head;
  if (n.container) {  // a mass noun needs a container: "two cups of tea"
    head = std::string(number == 0 ? n.container : n.en_pl) + " of " + n.en;
  } else {
    head = number == 0 ? n.en : n.en_pl;
    if (adj_en) head = std::string(adj_en) + " " + head;
  }
  std::string det = kNumbersEn[number];
  if (number == 0 && starts_with_vowel(head)) det = "an";
  p.en = det + " " + head;
  p.zh = std::string(kNumbersZh[number]) + n.mw + (adj_zh && !n.container ? adj_zh : "") + n.zh;
  return p;
}

// Bare objects: "apples", "tea" ⇄ 苹果, 茶.
Phrase bare(const Noun& n) { return {n.container ? n.en : n.en_pl, n.zh}; }

Phrase random_counted(const Noun& n, Rng& rng) {
  const int number = coin(rng, 45) ? 0 : 1 + static_cast<int>(rng.below(coin(rng, 70) ? 4 : 9));
  if (!n.container && coin(rng, 20)) {
    std::vector<const Adjective*> fits;
    for (const Adjective& a : kAttributive)
      if (has_kind(a.kinds, n.kind)) fits.push_back(&a);
    if (!fits.empty()) {
      const Adjective* a = fits[rng.below(fits.size())];
      return counted(n, number, a->en, a->zh);
    }
  }
  return counted(n, number);
}

const Subject& random_subject(Rng& rng) { return pick(kPeople, rng); }

// --------------------------------------------------------------------------- families

// He eats apples (every day). / He often eats apples. / He doesn't eat apples. /
// Does he eat apples (every day)? / He is eating apples.
TextPair transitive_present(Rng& rng) {
  const Verb* v;
  do v = &pick(kVerbs, rng);
  while (!v->habitual);
  const Subject& s = random_subject(rng);
  const Phrase o = bare(noun(pick(words(v->objects), rng)));
  const std::string S = s.en, Z = s.zh;
  switch (rng.below(6)) {
    case 0:
      return {sentence(S + " " + verb_now(s, v->base, v->s3) + " " + o.en, "."),
              Z + v->zh + o.zh + "。"};
    case 1: {
      const TimeWord& t = pick(kHabitual, rng);
      return {sentence(S + " " + verb_now(s, v->base, v->s3) + " " + o.en + " " + t.en, "."),
              Z + t.zh + v->zh + o.zh + "。"};
    }
    case 2: {
      const TimeWord& f = pick(kFrequency, rng);
      return {sentence(S + " " + f.en + " " + verb_now(s, v->base, v->s3) + " " + o.en, "."),
              Z + f.zh + v->zh + o.zh + "。"};
    }
    case 3:
      return {sentence(S + " " + do_now(s) + "n't " + v->base + " " + o.en, "."),
              Z + "不" + v->zh + o.zh + "。"};
    case 4: {
      if (coin(rng, 50))
        return {sentence(do_now(s) + " " + S + " " + v->base + " " + o.en, "?"),
                Z + v->zh + o.zh + "吗？"};
      const TimeWord& t = pick(kHabitual, rng);
      return {sentence(do_now(s) + " " + S + " " + v->base + " " + o.en + " " + t.en, "?"),
              Z + t.zh + v->zh + o.zh + "吗？"};
    }
    default:
      if (coin(rng, 70) || s.person == Person::kI)
        return {sentence(S + " " + be_now(s) + " " + v->ing + " " + o.en, "."),
                Z + "正在" + v->zh + o.zh + "。"};
      return {sentence(be_now(s) + " " + S + " " + v->ing + " " + o.en, "?"),
              Z + "正在" + v->zh + o.zh + "吗？"};
  }
}

// He ate two apples yesterday. / He didn't eat apples yesterday. / Did he eat apples yesterday?
// The past always carries a time word: "I read books." would otherwise be two tenses.
TextPair transitive_past(Rng& rng) {
  const Verb& v = pick(kVerbs, rng);
  const Subject& s = random_subject(rng);
  const Noun& n = noun(pick(words(v.objects), rng));
  const TimeWord& t = pick(kPast, rng);
  const std::string Z = std::string(s.zh) + std::string(t.zh);
  const uint64_t form = rng.below(10);
  if (form < 6) {
    const Phrase o = random_counted(n, rng);
    return {sentence(std::string(s.en) + " " + v.past + " " + o.en + " " + t.en, "."),
            Z + v.zh + "了" + o.zh + "。"};
  }
  const Phrase o = bare(n);
  if (form < 8)
    return {sentence(std::string(s.en) + " didn't " + v.base + " " + o.en + " " + t.en, "."),
            Z + "没" + v.zh + o.zh + "。"};
  return {sentence("did " + std::string(s.en) + " " + v.base + " " + o.en + " " + t.en, "?"),
          Z + v.zh + o.zh + "了吗？"};
}

// He will buy two books (tomorrow). / He won't eat noodles tomorrow. / Will he …?
TextPair transitive_future(Rng& rng) {
  const Verb* v;
  do v = &pick(kVerbs, rng);
  while (!v->habitual && std::string(v->base) != "borrow");
  const Subject& s = random_subject(rng);
  const Noun& n = noun(pick(words(v->objects), rng));
  const bool with_time = coin(rng, 75);
  const TimeWord& t = pick(kFuture, rng);
  const std::string ten = with_time ? std::string(" ") + t.en : "";
  const std::string Z = std::string(s.zh) + std::string(with_time ? t.zh : "");
  const Phrase o = coin(rng, 50) ? random_counted(n, rng) : bare(n);
  switch (rng.below(4)) {
    case 0:
    case 1:
      return {sentence(std::string(s.en) + " will " + v->base + " " + o.en + ten, "."),
              Z + "会" + v->zh + o.zh + "。"};
    case 2:
      return {sentence(std::string(s.en) + " won't " + v->base + " " + o.en + ten, "."),
              Z + "不会" + v->zh + o.zh + "。"};
    default:
      return {sentence("will " + std::string(s.en) + " " + v->base + " " + o.en + ten, "?"),
              Z + "会" + v->zh + o.zh + "吗？"};
  }
}

// He has two cats. / He doesn't have a cat. / Does he have a cat? (没有, never 不有)
TextPair have(Rng& rng) {
  static const std::vector<std::string> things = words(
      "cat dog bird rabbit horse book dictionary pen pencil umbrella key ticket map photo "
      "shirt coat computer phone watch bag box car bike");
  const Subject& s = random_subject(rng);
  const Noun& n = noun(pick(things, rng));
  const std::string has = is_3sg(s) ? "has" : "have";
  switch (rng.below(4)) {
    case 0:
    case 1: {
      const Phrase o = random_counted(n, rng);
      return {sentence(std::string(s.en) + " " + has + " " + o.en, "."),
              std::string(s.zh) + "有" + o.zh + "。"};
    }
    case 2: {
      const Phrase o = counted(n, 0);
      return {sentence(std::string(s.en) + " " + do_now(s) + "n't have " + o.en, "."),
              std::string(s.zh) + "没有" + n.zh + "。"};
    }
    default: {
      const Phrase o = counted(n, 0);
      return {sentence(do_now(s) + " " + s.en + " have " + o.en, "?"),
              std::string(s.zh) + "有" + n.zh + "吗？"};
    }
  }
}

// He likes cats. / He wants to eat noodles. / She likes to swim. (+ negation, question)
TextPair like_or_want(Rng& rng) {
  static const std::vector<std::string> likeable = words(
      "cat dog bird rabbit panda horse apple orange banana cake fish noodles tea coffee "
      "milk juice flower book movie");
  const Subject& s = random_subject(rng);
  Phrase what;  // English after "like"/"want", Chinese after 喜欢/想
  bool want = coin(rng, 50);
  if (!want && coin(rng, 55)) {
    what = bare(noun(pick(likeable, rng)));
  } else {
    if (coin(rng, 50)) {
      const Activity& a = pick(kActivities, rng);
      what = {std::string("to ") + a.base + (*a.rest ? std::string(" ") + a.rest : ""), a.zh};
    } else {
      const Verb* v;
      do v = &pick(kVerbs, rng);
      while (!v->habitual);
      const Noun& n = noun(pick(words(v->objects), rng));
      // "want to eat an apple" reads well; "like to eat an apple" does not.
      const Phrase o = want && coin(rng, 50) ? counted(n, 0) : bare(n);
      what = {std::string("to ") + v->base + " " + o.en, v->zh + o.zh};
    }
  }
  const char* en_verb = want ? "want" : "like";
  const std::string zh_verb = want ? "想" : "喜欢";
  const std::string en_now = is_3sg(s) ? std::string(en_verb) + "s" : en_verb;
  switch (rng.below(4)) {
    case 0:
    case 1:
      return {sentence(std::string(s.en) + " " + en_now + " " + what.en, "."),
              std::string(s.zh) + zh_verb + what.zh + "。"};
    case 2:
      return {sentence(std::string(s.en) + " " + do_now(s) + "n't " + en_verb + " " + what.en, "."),
              std::string(s.zh) + ("不" + zh_verb) + what.zh + "。"};
    default:
      return {sentence(do_now(s) + " " + s.en + " " + en_verb + " " + what.en, "?"),
              std::string(s.zh) + zh_verb + what.zh + "吗？"};
  }
}

// Tom chases Jerry. / I will call you tomorrow. / Did you help Tom yesterday?
TextPair person_verb(Rng& rng) {
  const PersonVerb& v = pick(kPersonVerbs, rng);
  const Subject& s = random_subject(rng);
  const Subject* o;
  do o = &random_subject(rng);
  while (o->ref == s.ref);
  const std::string S = s.en, O = o->en_obj;
  const uint64_t form = rng.below(v.past ? 8 : 4);
  switch (form) {
    case 0:
    case 1:
      return {sentence(S + " " + verb_now(s, v.base, v.s3) + " " + O, "."),
              std::string(s.zh) + replace_object(v.zh, o->zh) + "。"};
    case 2:
      return {sentence(S + " " + do_now(s) + "n't " + v.base + " " + O, "."),
              std::string(s.zh) + ("不" + replace_object(v.zh, o->zh)) + "。"};
    case 3:
      return {sentence(do_now(s) + " " + S + " " + v.base + " " + O, "?"),
              std::string(s.zh) + replace_object(v.zh, o->zh) + "吗？"};
    case 4:
    case 5: {
      const TimeWord& t = pick(kPast, rng);
      return {sentence(S + " " + v.past + " " + O + " " + t.en, "."),
              std::string(s.zh) + (t.zh + replace_object(v.zh_past, o->zh)) + "。"};
    }
    default: {
      const TimeWord& t = pick(kFuture, rng);
      return {sentence(S + " will " + v.base + " " + O + " " + t.en, "."),
              std::string(s.zh) + (t.zh + ("会" + replace_object(v.zh, o->zh))) + "。"};
    }
  }
}

// He goes to school every day. / He went to the park yesterday. / He will go home tonight.
TextPair go_somewhere(Rng& rng) {
  const Place& p = pick(kPlaces, rng);
  const Subject& s = random_subject(rng);
  const bool home = std::string(p.key) == "home";
  const std::string go_zh = home ? "回家" : std::string("去") + p.zh;
  const std::string S = s.en;
  switch (rng.below(7)) {
    case 0: {
      const TimeWord& t = pick(kHabitual, rng);
      return {sentence(S + " " + verb_now(s, "go", "goes") + " " + p.en_to + " " + t.en, "."),
              std::string(s.zh) + (t.zh + go_zh) + "。"};
    }
    case 1:
    case 2: {
      const TimeWord& t = pick(kPast, rng);
      const std::string zh = home ? "回家了" : std::string("去了") + p.zh;
      return {sentence(S + " went " + p.en_to + " " + t.en, "."),
              std::string(s.zh) + (t.zh + zh) + "。"};
    }
    case 3: {
      const TimeWord& t = pick(kPast, rng);
      return {sentence(S + " didn't go " + p.en_to + " " + t.en, "."),
              std::string(s.zh) + (t.zh + ("没" + go_zh)) + "。"};
    }
    case 4: {
      const TimeWord& t = pick(kPast, rng);
      return {sentence("did " + S + " go " + p.en_to + " " + t.en, "?"),
              std::string(s.zh) + (t.zh + go_zh) + "了吗？"};
    }
    case 5: {
      const TimeWord& t = pick(kFuture, rng);
      return {sentence(S + " will go " + p.en_to + " " + t.en, "."),
              std::string(s.zh) + (t.zh + ("会" + go_zh)) + "。"};
    }
    default: {
      const TimeWord& t = pick(kFuture, rng);
      return {sentence("will " + S + " go " + p.en_to + " " + t.en, "?"),
              std::string(s.zh) + (t.zh + ("会" + go_zh)) + "吗？"};
    }
  }
}

// He plays football in the park every day. → 他每天在公园踢足球。 (and other tenses)
TextPair activity(Rng& rng) {
  const Activity& a = pick(kActivities, rng);
  const Subject& s = random_subject(rng);
  const std::string rest = *a.rest ? std::string(" ") + a.rest : "";
  const std::vector<std::string> places = words(a.places);
  std::string at_en, at_zh;  // optional place: " in the park" / 在公园
  if (!places.empty() && coin(rng, 50)) {
    const std::string key = pick(places, rng);
    for (const Place& p : kPlaces)
      if (key == p.key) at_en = std::string(" ") + p.en_at, at_zh = std::string("在") + p.zh;
  }
  const std::string S = s.en;
  switch (rng.below(8)) {
    case 0:
      return {sentence(S + " " + verb_now(s, a.base, a.s3) + rest + at_en, "."),
              std::string(s.zh) + at_zh + a.zh + "。"};
    case 1: {
      const TimeWord& t = pick(kHabitual, rng);
      return {sentence(S + " " + verb_now(s, a.base, a.s3) + rest + at_en + " " + t.en, "."),
              std::string(s.zh) + (t.zh + at_zh) + a.zh + "。"};
    }
    case 2: {
      const TimeWord& f = pick(kFrequency, rng);
      return {sentence(S + " " + f.en + " " + verb_now(s, a.base, a.s3) + rest + at_en, "."),
              std::string(s.zh) + (f.zh + at_zh) + a.zh + "。"};
    }
    case 3: {
      const TimeWord& t = pick(kPast, rng);
      // 了 marks a finished event; a job held for a while (工作) takes none: 他去年在北京工作。
      const std::string le = std::string(a.zh) == "工作" ? "" : "了";
      return {sentence(S + " " + a.past + rest + at_en + " " + t.en, "."),
              std::string(s.zh) + (t.zh + at_zh) + a.zh + le + "。"};
    }
    case 4: {
      const TimeWord& t = pick(kFuture, rng);
      return {sentence(S + " will " + a.base + rest + at_en + " " + t.en, "."),
              std::string(s.zh) + (t.zh + ("会" + at_zh)) + a.zh + "。"};
    }
    case 5:
      if (coin(rng, 50))
        return {sentence(S + " " + do_now(s) + "n't " + a.base + rest, "."),
                std::string(s.zh) + ("不" + std::string(a.zh)) + "。"};
      else {
        const TimeWord& t = pick(kPast, rng);
        return {sentence(S + " didn't " + a.base + rest + " " + t.en, "."),
                std::string(s.zh) + (t.zh + ("没" + std::string(a.zh))) + "。"};
      }
    case 6:
      return {sentence(do_now(s) + " " + S + " " + a.base + rest, "?"),
              std::string(s.zh) + a.zh + "吗？"};
    default:  // 正在 = "right now"; with a place, 在 is already there: 他正在公园踢足球。
      return {sentence(S + " " + be_now(s) + " " + a.ing + rest + at_en, "."),
              std::string(s.zh) + (at_zh.empty() ? "正在" : "正" + at_zh) + a.zh + "。"};
  }
}

// He is tall. / She is very busy today. / I was tired yesterday. / Is he hungry?
TextPair describe_person(Rng& rng) {
  std::vector<const Adjective*> fits;
  for (const Adjective& a : kAdjectives)
    if (has_kind(a.kinds, "person")) fits.push_back(&a);
  const Adjective& a = *fits[rng.below(fits.size())];
  const Subject& s = random_subject(rng);
  // Lasting qualities (tall, smart …) do not change by the day: no time word for them.
  const std::string en_adj = a.en;
  const bool lasting =
      en_adj == "tall" || en_adj == "short" || en_adj == "smart" || en_adj == "young";
  const std::string S = s.en;
  switch (rng.below(lasting ? 4 : 7)) {
    case 0:
      return {sentence(S + " " + be_now(s) + " " + a.en, "."),
              std::string(s.zh) + ("很" + std::string(a.zh)) + "。"};
    case 1:
      return {sentence(S + " " + be_now(s) + " very " + a.en, "."),
              std::string(s.zh) + ("非常" + std::string(a.zh)) + "。"};
    case 2:
      return {sentence(S + " " + be_now(s) + " not " + a.en, "."),
              std::string(s.zh) + ("不" + std::string(a.zh)) + "。"};
    case 3:
      return {sentence(be_now(s) + " " + S + " " + a.en, "?"),
              std::string(s.zh) + (a.zh + std::string("吗？"))};
    case 4:
      return {sentence(S + " " + be_now(s) + " " + a.en + " today", "."),
              std::string(s.zh) + ("今天很" + std::string(a.zh)) + "。"};
    case 5:
      return {sentence(S + " " + be_past(s) + " " + a.en + " yesterday", "."),
              std::string(s.zh) + ("昨天很" + std::string(a.zh)) + "。"};
    default:
      return {sentence(be_past(s) + " " + S + " " + a.en + " yesterday", "?"),
              std::string(s.zh) + ("昨天" + std::string(a.zh)) + "吗？"};
  }
}

// This book is new. / Those dogs are very cute. / Is that car expensive?  (这本书 / 那些狗)
TextPair describe_thing(Rng& rng) {
  const Noun* n;
  std::vector<const Adjective*> fits;
  do {
    n = &pick(kNouns, rng);
    fits.clear();
    for (const Adjective& a : kAdjectives)
      if (has_kind(a.kinds, n->kind)) fits.push_back(&a);
  } while (fits.empty() || (n->container && std::string(n->kind) != "drink"));
  const Adjective& a = *fits[rng.below(fits.size())];
  const bool plural = !n->container && coin(rng, 30);
  const bool near = coin(rng, 50);
  const std::string det_en = plural ? (near ? "these" : "those") : (near ? "this" : "that");
  const std::string det_zh = std::string(near ? "这" : "那") + (plural ? "些" : n->mw);
  const std::string np_en = det_en + " " + (plural ? n->en_pl : n->en);
  const std::string np_zh = det_zh + n->zh;
  const std::string be = plural ? "are" : "is";
  switch (rng.below(4)) {
    case 0:
      return {sentence(np_en + " " + be + " " + a.en, "."), np_zh + "很" + a.zh + "。"};
    case 1:
      return {sentence(np_en + " " + be + " very " + a.en, "."), np_zh + "非常" + a.zh + "。"};
    case 2:
      return {sentence(np_en + " " + be + " not " + a.en, "."), np_zh + "不" + a.zh + "。"};
    default:
      return {sentence(be + " " + np_en + " " + a.en, "?"), np_zh + a.zh + "吗？"};
  }
}

// The cat is in the box. / Where is my phone? / Tom is at home. / Is he at school?
TextPair where_is(Rng& rng) {
  static const char* const kOwnersEn[] = {"the", "my", "your", "his", "her"};
  static const char* const kOwnersZh[] = {"", "我的", "你的", "他的", "她的"};
  if (coin(rng, 40)) {  // a person at a place
    const Subject& s = random_subject(rng);
    const Place& p = pick(kPlaces, rng);
    const std::string S = s.en, zh_at = std::string("在") + p.zh;
    switch (rng.below(5)) {
      case 0:
        return {sentence(S + " " + be_now(s) + " " + p.en_at, "."),
                std::string(s.zh) + zh_at + "。"};
      case 1:
        return {sentence(be_now(s) + " " + S + " " + p.en_at, "?"),
                std::string(s.zh) + zh_at + "吗？"};
      case 2:
        return {sentence(S + " " + be_past(s) + " " + p.en_at + " yesterday", "."),
                std::string(s.zh) + ("昨天" + zh_at) + "。"};
      case 3:
        return {sentence(S + " will be " + p.en_at + " tomorrow", "."),
                std::string(s.zh) + ("明天会" + zh_at) + "。"};
      default:
        return {sentence("where " + be_now(s) + " " + S, "?"),
                std::string(s.zh) + std::string("在哪里？")};
    }
  }
  const Noun& n = noun(pick(words(kSpotThings), rng));
  const int owner = static_cast<int>(rng.below(5));
  const std::string np_en = std::string(kOwnersEn[owner]) + " " + n.en;
  const std::string np_zh = std::string(kOwnersZh[owner]) + n.zh;
  const Spot& spot = pick(kSpots, rng);
  // Skip a thing inside itself ("the bag in the bag" cannot happen: bags are not listed).
  switch (rng.below(4)) {
    case 0:
      return {sentence(np_en + " is " + spot.en, "."), np_zh + "在" + spot.zh + "。"};
    case 1:
      return {sentence(np_en + " is not " + spot.en, "."), np_zh + "不在" + spot.zh + "。"};
    case 2:
      return {sentence("is " + np_en + " " + spot.en, "?"), np_zh + "在" + spot.zh + "吗？"};
    default:
      return {sentence("where is " + np_en, "?"), np_zh + "在哪里？"};
  }
}

// There are two cats in the room. → 房间里有两只猫。 (the place moves to the front)
TextPair there_is(Rng& rng) {
  const Noun& n = noun(pick(words(kSpotThings), rng));
  const Spot& spot = pick(kSpots, rng);
  switch (rng.below(4)) {
    case 0:
    case 1: {
      const Phrase o = random_counted(n, rng);
      const std::string be =
          o.en.compare(0, 2, "a ") == 0 || o.en.compare(0, 3, "an ") == 0 ? "is" : "are";
      return {sentence("there " + be + " " + o.en + " " + spot.en, "."),
              spot.zh + std::string("有") + o.zh + "。"};
    }
    case 2:
      return {sentence(std::string("there is no ") + n.en + " " + spot.en, "."),
              spot.zh + std::string("没有") + n.zh + "。"};
    default:
      return {sentence(std::string("is there ") + counted(n, 0).en + " " + spot.en, "?"),
              spot.zh + std::string("有") + n.zh + "吗？"};
  }
}

struct Family {
  TextPair (*make)(Rng&);
  int weight;
};
const Family kFamilies[] = {
    {transitive_present, 16}, {transitive_past, 14}, {transitive_future, 10}, {have, 7},
    {like_or_want, 10},       {person_verb, 10},     {go_somewhere, 8},       {activity, 14},
    {describe_person, 7},     {describe_thing, 7},   {where_is, 7},           {there_is, 5},
};

}  // namespace

TextPair generate_sentence(Rng& rng) {
  int total = 0;
  for (const Family& f : kFamilies) total += f.weight;
  int r = static_cast<int>(rng.below(total));
  for (const Family& f : kFamilies) {
    if (r < f.weight) return f.make(rng);
    r -= f.weight;
  }
  return kFamilies[0].make(rng);
}

}  // namespace qkv::data
