"""Function words of Kazakh, Russian and English, folded like everything else.

Only words that say nothing about the topic: question words such as "when" or "where" stay,
because they separate "when is the vote" from "where do I vote". People mix languages, so one
set serves all three.
"""

from bot.search.text import fold

_KK = """
мен сен ол біз сіз олар менің сенің оның біздің сіздің олардың маған саған оған бізге сізге
және мен мен да де та те ма ме ба бе па пе ғой қой ше шы ші еді екен бар жоқ бұл осы сол ана
мына анау үшін туралы бойынша арқылы дейін кейін бірақ немесе әлде я не ғана тек енді қазір
сәлеметсіз сәлем сәлеметсіздер рахмет рақмет өтінемін айтыңызшы айтып беріңізші білгім келеді
келеді болады бола болса ғой пе ба ма ме же ше да айтшы айтып айтыңыз түсіндіріңізші
"""
_RU = """
я ты он она оно мы вы они меня тебя его её ее нас вас их мне тебе ему ей нам вам им мой моя
моё мое мои твой ваш наш свой и а но или да нет не ни ли же бы в во на с со к ко о об от до по
за из у для при про без над под через это этот эта эти то тот та те так вот ну уже ещё еще
тоже также очень здравствуйте привет добрый день вечер утро пожалуйста подскажите скажите
спасибо хочу хотел хотела интересно вопрос был была было были есть будет
расскажи расскажите объясни объясните подскажи скажи
"""
_EN = """
i me my mine you your yours he him his she her it its we us our they them their a an the and
or but if of to in on at by for from with about as into is are was were be been being am do
does did this that these those there here so please hi hello hey thanks thank pls plz just
tell me know want would could should shall will can may might some any explain
"""

STOPWORDS = frozenset(fold(word) for word in (_KK + _RU + _EN).split())
