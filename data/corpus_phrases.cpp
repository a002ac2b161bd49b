// The hand-written pairs of the toy corpus: everyday phrases a grammar would not produce
// (greetings, set phrases, idioms). All of them go into the training split.
// One pair per line, "English | 中文". Kept short: at most 12 English tokens and
// 16 Chinese characters, like the grammar's sentences.
#include <stdexcept>
#include <string>

#include "data/corpus_generator.h"

namespace qkv::data {

namespace {
const char* const kPhrases = R"(Hello! | 你好！
Hi! | 嗨！
Good morning! | 早上好！
Good afternoon! | 下午好！
Good evening! | 晚上好！
Good night! | 晚安！
Goodbye! | 再见！
See you tomorrow! | 明天见！
See you later! | 回头见！
See you next week! | 下周见！
How are you? | 你好吗？
I'm fine, thank you. | 我很好，谢谢。
I'm fine, and you? | 我很好，你呢？
Not bad. | 还不错。
Long time no see! | 好久不见！
Nice to meet you. | 很高兴认识你。
Nice to meet you too. | 我也很高兴认识你。
Welcome! | 欢迎！
Welcome to China! | 欢迎来到中国！
Welcome to Beijing! | 欢迎来到北京！
Thank you! | 谢谢你！
Thanks! | 谢谢！
Thank you very much! | 非常感谢！
You're welcome. | 不客气。
No problem. | 没问题。
Sorry! | 对不起！
I'm sorry. | 我很抱歉。
I'm very sorry. | 我非常抱歉。
It doesn't matter. | 没关系。
Excuse me. | 打扰一下。
Please sit down. | 请坐。
Please come in. | 请进。
Please wait a moment. | 请稍等。
Please speak slowly. | 请说慢一点。
Please say it again. | 请再说一遍。
Please help me. | 请帮帮我。
Please close the door. | 请关门。
Please open the window. | 请开窗。
Please turn off the light. | 请关灯。
Please be quiet. | 请安静。
Be careful! | 小心！
Hurry up! | 快点！
Wait a minute! | 等一下！
Come here! | 过来！
Let's go! | 我们走吧！
Let's eat! | 我们吃饭吧！
Let's go home. | 我们回家吧。
Let's begin. | 我们开始吧。
Cheers! | 干杯！
Happy birthday! | 生日快乐！
Happy New Year! | 新年快乐！
Merry Christmas! | 圣诞快乐！
Congratulations! | 恭喜！
Good luck! | 祝你好运！
Have a good trip! | 一路平安！
Have a nice day! | 祝你今天愉快！
Take care! | 保重！
Get well soon! | 早日康复！
Help! | 救命！
Fire! | 着火了！
Stop! | 停！
Really? | 真的吗？
Of course. | 当然。
Of course not. | 当然不是。
Yes. | 是的。
No. | 不是。
OK. | 好的。
All right. | 好吧。
Maybe. | 也许吧。
I don't know. | 我不知道。
I know. | 我知道。
I understand. | 我明白了。
I don't understand. | 我不明白。
I agree. | 我同意。
I don't agree. | 我不同意。
I think so. | 我想是的。
I don't think so. | 我不这么认为。
I forgot. | 我忘了。
I'm ready. | 我准备好了。
Are you ready? | 你准备好了吗？
I'm home. | 我回来了。
I'm here. | 我在这儿。
I'm coming. | 我来了。
I have to go. | 我得走了。
It's late. | 很晚了。
It's time to eat. | 该吃饭了。
It's time to sleep. | 该睡觉了。
Time is up. | 时间到了。
I love you. | 我爱你。
I love you too. | 我也爱你。
I miss you. | 我想你。
Tom chases Jerry. | 汤姆追杰瑞。
Jerry runs away. | 杰瑞跑了。
Tom and Jerry are friends. | 汤姆和杰瑞是朋友。
machine learning | 机器学习
deep learning | 深度学习
artificial intelligence | 人工智能
neural network | 神经网络
Attention is all you need. | 注意力就是你所需要的一切。
What's your name? | 你叫什么名字？
My name is Tom. | 我叫汤姆。
My name is Mary. | 我叫玛丽。
Who are you? | 你是谁？
Who is he? | 他是谁？
Who is she? | 她是谁？
He is my friend. | 他是我的朋友。
She is my teacher. | 她是我的老师。
She is my mother. | 她是我妈妈。
He is my father. | 他是我爸爸。
He is my brother. | 他是我哥哥。
She is my sister. | 她是我姐姐。
I am a student. | 我是学生。
I am a teacher. | 我是老师。
He is a doctor. | 他是医生。
She is a nurse. | 她是护士。
We are students. | 我们是学生。
They are teachers. | 他们是老师。
Are you a student? | 你是学生吗？
I am not a teacher. | 我不是老师。
Where are you from? | 你是哪里人？
I am from China. | 我是中国人。
I am Chinese. | 我是中国人。
I am from America. | 我是美国人。
He is from England. | 他是英国人。
How old are you? | 你几岁了？
I am ten years old. | 我十岁了。
I am twenty years old. | 我二十岁了。
Where do you live? | 你住在哪里？
I live in Beijing. | 我住在北京。
I live in Shanghai. | 我住在上海。
She lives in China. | 她住在中国。
What is this? | 这是什么？
What is that? | 那是什么？
This is a book. | 这是一本书。
That is a cat. | 那是一只猫。
This is my book. | 这是我的书。
That is his car. | 那是他的车。
This is my home. | 这是我的家。
Is this your bag? | 这是你的包吗？
Whose book is this? | 这是谁的书？
What time is it? | 现在几点了？
It's three o'clock. | 现在三点。
It's eight o'clock. | 现在八点。
What day is it today? | 今天星期几？
Today is Monday. | 今天星期一。
Today is Sunday. | 今天星期天。
Tomorrow is Saturday. | 明天星期六。
What's the date today? | 今天几号？
How is the weather today? | 今天天气怎么样？
The weather is nice today. | 今天天气很好。
It's raining. | 下雨了。
It's snowing. | 下雪了。
It's very hot today. | 今天很热。
It's very cold today. | 今天很冷。
It's windy today. | 今天风很大。
It will rain tomorrow. | 明天会下雨。
Spring is coming. | 春天来了。
I like summer. | 我喜欢夏天。
I like winter. | 我喜欢冬天。
What do you want? | 你想要什么？
What do you want to eat? | 你想吃什么？
What do you want to drink? | 你想喝什么？
What are you doing? | 你在做什么？
What did you say? | 你说什么？
What happened? | 发生了什么事？
What's wrong? | 怎么了？
Why? | 为什么？
Why not? | 为什么不？
How much is this? | 这个多少钱？
How much is it? | 多少钱？
It's too expensive. | 太贵了。
It's very cheap. | 很便宜。
Can you help me? | 你能帮我吗？
Can you speak Chinese? | 你会说中文吗？
I can speak a little Chinese. | 我会说一点中文。
Can you speak English? | 你会说英语吗？
Do you understand? | 你明白吗？
Where is the toilet? | 厕所在哪里？
Where is the station? | 车站在哪里？
Where is the bank? | 银行在哪里？
How do I get there? | 我怎么去那里？
Turn left. | 向左转。
Turn right. | 向右转。
Go straight. | 一直走。
It's very far. | 很远。
It's not far. | 不远。
It's very close. | 很近。
I'm lost. | 我迷路了。
I'm hungry. | 我饿了。
I'm thirsty. | 我渴了。
I'm tired. | 我累了。
I'm sleepy. | 我困了。
I'm full. | 我吃饱了。
I'm bored. | 我很无聊。
I'm sick. | 我生病了。
I have a cold. | 我感冒了。
I have a headache. | 我头疼。
I feel better. | 我感觉好多了。
I'm busy now. | 我现在很忙。
I'm free today. | 我今天有空。
Are you free tomorrow? | 你明天有空吗？
I'm so happy! | 我太高兴了！
That's great! | 太好了！
That's too bad. | 太遗憾了。
How beautiful! | 真漂亮！
Delicious! | 真好吃！
It's delicious. | 很好吃。
It's interesting. | 很有意思。
It's boring. | 很无聊。
It's easy. | 很容易。
It's difficult. | 很难。
It's important. | 很重要。
It's not important. | 不重要。
It's true. | 是真的。
It's my fault. | 是我的错。
Don't worry. | 别担心。
Don't cry. | 别哭。
Don't be afraid. | 别害怕。
Don't be late. | 别迟到。
Don't forget. | 别忘了。
Don't move! | 别动！
Don't touch it. | 别碰它。
Never mind. | 算了。
Just a moment. | 稍等一下。
Follow me. | 跟我来。
Sit here. | 坐这儿。
Come with me. | 跟我一起来。
Listen to me. | 听我说。
Look! | 看！
Look at this. | 看这个。
Try again. | 再试一次。
Keep going. | 继续。
Well done! | 做得好！
You are right. | 你说得对。
You are wrong. | 你错了。
You are very kind. | 你真好。
You look tired. | 你看起来很累。
You look happy. | 你看起来很高兴。
You speak Chinese very well. | 你的中文说得很好。
I'm learning Chinese. | 我在学中文。
Chinese is not difficult. | 中文不难。
English is easy. | 英语很容易。
I like this song. | 我喜欢这首歌。
I like this movie. | 我喜欢这部电影。
I like reading. | 我喜欢读书。
I like music. | 我喜欢音乐。
I like sports. | 我喜欢运动。
I like my job. | 我喜欢我的工作。
I like it very much. | 我非常喜欢。
I don't like it. | 我不喜欢。
I want to go home. | 我想回家。
I want to sleep. | 我想睡觉。
I want to go to China. | 我想去中国。
I want to learn Chinese. | 我想学中文。
I need help. | 我需要帮助。
I need your help. | 我需要你的帮助。
I have a question. | 我有一个问题。
I have an idea. | 我有一个主意。
I have no money. | 我没有钱。
I have no time. | 我没有时间。
I don't have time. | 我没时间。
We have time. | 我们有时间。
There is no time. | 没有时间了。
Do you have time? | 你有时间吗？
Let me try. | 让我试试。
Let me think. | 让我想想。
Let me see. | 让我看看。
Leave me alone. | 别管我。
Call me tomorrow. | 明天给我打电话。
Call the police! | 快报警！
Call a doctor! | 快叫医生！
Open your book. | 打开你的书。
Close your book. | 合上你的书。
Read after me. | 跟我读。
Any questions? | 有问题吗？
Raise your hand. | 举手。
Class is over. | 下课了。
Class begins. | 上课了。
The answer is right. | 答案是对的。
The answer is wrong. | 答案是错的。
One plus one is two. | 一加一等于二。
Two plus three is five. | 二加三等于五。
Ten minus four is six. | 十减四等于六。
How many people are there? | 有多少人？
How many books do you have? | 你有多少本书？
My family has four people. | 我家有四口人。
I have a brother. | 我有一个哥哥。
I have a sister. | 我有一个姐姐。
I have two children. | 我有两个孩子。
Tom is a cat. | 汤姆是一只猫。
Jerry is a mouse. | 杰瑞是一只老鼠。
The cat chases the mouse. | 猫追老鼠。
The dog is barking. | 狗在叫。
The bird is singing. | 鸟在唱歌。
The sun is shining. | 阳光明媚。
The moon is very bright. | 月亮很亮。
The sky is blue. | 天空是蓝色的。
The grass is green. | 草是绿色的。
Snow is white. | 雪是白色的。
I like red. | 我喜欢红色。
My favorite color is blue. | 我最喜欢的颜色是蓝色。
The door is open. | 门开着。
The door is closed. | 门关着。
The shop is closed. | 商店关门了。
The train is late. | 火车晚点了。
The bus is coming. | 公共汽车来了。
I take the bus to work. | 我坐公共汽车上班。
I go to work by subway. | 我坐地铁上班。
I walk to school. | 我走路去学校。
Let's take a taxi. | 我们打车吧。
Where is the airport? | 机场在哪里？
I want to buy a ticket. | 我想买一张票。
One ticket, please. | 请给我一张票。
The bill, please. | 请结账。
A cup of coffee, please. | 请给我一杯咖啡。
A glass of water, please. | 请给我一杯水。
I'd like some tea. | 我想喝点茶。
What would you like? | 您想要什么？
The food here is good. | 这里的菜很好吃。
Breakfast is ready. | 早饭准备好了。
Dinner is ready. | 晚饭准备好了。
Have you eaten? | 你吃饭了吗？
I have eaten. | 我吃过了。
I'm a vegetarian. | 我吃素。
I don't drink. | 我不喝酒。
I don't smoke. | 我不抽烟。
Wash your hands. | 洗手。
Brush your teeth. | 刷牙。
Go to bed. | 去睡觉。
Wake up! | 醒醒！
Get up! | 起床！
I got up early today. | 我今天起得很早。
I went to bed late. | 我睡得很晚。
I slept well. | 我睡得很好。
Sweet dreams! | 做个好梦！
Have fun! | 玩得开心！
Enjoy your meal! | 请慢用！
Make yourself at home. | 别客气，就像在自己家一样。
Who knows? | 谁知道呢？
It depends. | 看情况。
Same to you. | 你也一样。
Me too. | 我也是。
Me neither. | 我也不。
Good idea! | 好主意！
Just kidding. | 开玩笑的。
No way! | 不可能！
Too bad! | 真可惜！
Wonderful! | 太棒了！
Amazing! | 太神奇了！
Good job! | 干得好！
Not yet. | 还没有。
Almost. | 差不多。
Nothing. | 没什么。
Everything is fine. | 一切都好。
Everything is ready. | 一切都准备好了。
Life is beautiful. | 生活很美好。
Time flies. | 时间过得真快。
Practice makes perfect. | 熟能生巧。
Knowledge is power. | 知识就是力量。
Seeing is believing. | 眼见为实。
Better late than never. | 迟做总比不做好。
Where there is a will, there is a way. | 有志者事竟成。
Rome was not built in a day. | 罗马不是一天建成的。
Actions speak louder than words. | 行动胜于言语。
Love me, love my dog. | 爱屋及乌。
The computer is slow. | 电脑很慢。
My phone is broken. | 我的手机坏了。
The internet is down. | 网络断了。
Send me an email. | 给我发一封电子邮件。
I will text you. | 我会给你发短信。
Translate this sentence. | 翻译这个句子。
This sentence is short. | 这个句子很短。
Computers can learn. | 计算机能学习。
The model is learning. | 模型正在学习。
The model works. | 模型能用了。
)";

const std::vector<TextPair>& parse() {
  static const std::vector<TextPair> pairs = [] {
    std::vector<TextPair> out;
    const std::string all = kPhrases;
    size_t start = 0;
    while (start < all.size()) {
      size_t end = all.find('\n', start);
      if (end == std::string::npos) end = all.size();
      const std::string line = all.substr(start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      const size_t bar = line.find(" | ");
      if (bar == std::string::npos)
        throw std::logic_error("corpus_phrases.cpp: no ' | ' in \"" + line + "\"");
      out.push_back({line.substr(0, bar), line.substr(bar + 3)});
    }
    return out;
  }();
  return pairs;
}
}  // namespace

const std::vector<TextPair>& handwritten_pairs() { return parse(); }

}  // namespace qkv::data
