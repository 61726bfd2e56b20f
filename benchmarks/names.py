"""Name lists for the data generator (``benchmarks/generate.py``).

Everything made from these lists is sample data: the people are invented (common Kyrgyz and
Russian first names and surnames combined at random), the madrasas are invented and marked
"(sample)"; only the regions and the towns they are placed in are real.
"""

from __future__ import annotations

#: Kyrgyz (and common Muslim) first names, as written in Cyrillic.
KYRGYZ_MALE = (
    "Азамат", "Айбек", "Бакыт", "Бекзат", "Данияр", "Нурлан", "Эрлан", "Тилек", "Улан",
    "Эмир", "Адилет", "Бектур", "Мирлан", "Нурбек", "Жоомарт", "Талант", "Канат", "Марат",
    "Максат", "Чынгыз", "Алмаз", "Темирлан", "Эржан", "Уланбек", "Асылбек", "Айдар",
    "Нуржигит", "Байэл", "Санжар", "Акылбек", "Жыргалбек", "Кубанычбек", "Медер", "Нурислам",
    "Абдулла", "Мухаммед", "Ибрагим", "Юсуф", "Умар", "Исмаил", "Билал", "Хасан", "Хусейн",
    "Абдурахман", "Абдыкерим", "Замир", "Руслан", "Тимур", "Бекжан", "Нурсултан", "Айбол",
    "Эрмек", "Калыс", "Мелис", "Атай", "Элдияр", "Саламат", "Жанболот", "Курманбек", "Токтогул",
)  # fmt: skip
KYRGYZ_FEMALE = (
    "Айгерим", "Айпери", "Айзада", "Жылдыз", "Гулнара", "Мээрим", "Нургуль", "Чолпон",
    "Салтанат", "Бермет", "Асель", "Динара", "Элнура", "Айжан", "Гулзат", "Назира", "Айнура",
    "Бурул", "Жибек", "Калыйча", "Нуриза", "Фатима", "Аиша", "Зейнеп", "Марьям", "Хадича",
    "Сезим", "Айдана", "Бегимай", "Нурайым", "Айсулуу", "Гульмира", "Жамиля", "Зарина",
    "Карлыгач", "Мадина", "Назгуль", "Перизат", "Райхан", "Толгонай", "Умут", "Чынара",
    "Эльвира", "Акмоор", "Альбина", "Асем", "Венера", "Гулайым", "Даткайым", "Кымбат",
)  # fmt: skip
#: Kyrgyz surnames in their male form; the female form adds "а" (Осмонов → Осмонова).
KYRGYZ_SURNAMES = (
    "Абдраимов", "Асанов", "Бейшенов", "Жумабаев", "Исмаилов", "Кадыров", "Касымов",
    "Мамытов", "Осмонов", "Орозов", "Садыков", "Султанов", "Токтосунов", "Усенов", "Алиев",
    "Абдыкадыров", "Байзаков", "Иманалиев", "Калыков", "Карабаев", "Кочкоров", "Мамбетов",
    "Молдобаев", "Намазов", "Сатыбалдиев", "Турдубаев", "Шамшиев", "Эсенгулов", "Эшимов",
    "Абдылдаев", "Акматов", "Аманов", "Арстанбеков", "Бакиев", "Баялиев", "Бообеков",
    "Джумагулов", "Жапаров", "Жээнбеков", "Ибраев", "Исаков", "Кенжебаев", "Кулов",
    "Мамасалиев", "Мырзакматов", "Нурматов", "Өмүрбеков", "Рахманов",
    "Сарыгулов", "Таштанов", "Токтогулов", "Турганбаев", "Үсөнов", "Чотонов", "Шерматов",
    "Эркинбаев", "Юсупов", "Абдукаримов", "Ташиев", "Маматов", "Тойчуев", "Арзыбаев",
)  # fmt: skip
#: Russian names, for the few people of Russian origin (mostly in Chuy and Bishkek).
RUSSIAN_MALE = (
    "Александр", "Дмитрий", "Сергей", "Андрей", "Алексей", "Иван", "Михаил", "Николай",
    "Евгений", "Владимир", "Павел", "Виктор", "Артём", "Максим", "Константин",
)  # fmt: skip
RUSSIAN_FEMALE = (
    "Анна", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Мария",
    "Екатерина", "Юлия", "Людмила", "Валентина", "Галина", "Дарья", "Ксения",
)  # fmt: skip
RUSSIAN_SURNAMES = (
    "Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Лебедев", "Козлов", "Егоров", "Павлов",
)  # fmt: skip

#: Share of madrasas per region (Kyrgyzstan's seven oblasts and two cities): most in the
#: south (Osh, Jalal-Abad, Batken) and in Chuy, as in reality.
REGION_WEIGHTS = {
    "osh-region": 0.24,
    "jalal-abad": 0.20,
    "chuy": 0.13,
    "batken": 0.09,
    "bishkek": 0.08,
    "osh-city": 0.07,
    "issyk-kul": 0.07,
    "talas": 0.06,
    "naryn": 0.06,
}

#: Real towns and villages (and city districts) per region, for madrasa places and venues.
LOCALITIES = {
    "batken": ("Batken", "Kyzyl-Kiya", "Sulukta", "Isfana", "Kadamjay", "Leilek", "Aidarken"),
    "chuy": (
        "Tokmok", "Kant", "Kara-Balta", "Kemin", "Sokuluk", "Belovodskoye", "Ivanovka",
        "Shopokov", "Kaindy", "Lebedinovka",
    ),
    "issyk-kul": (
        "Karakol", "Balykchy", "Cholpon-Ata", "Tyup", "Bokonbayevo", "Kyzyl-Suu", "Ananyevo",
    ),
    "jalal-abad": (
        "Jalal-Abad", "Bazar-Korgon", "Suzak", "Kerben", "Toktogul", "Kochkor-Ata", "Massy",
        "Tash-Kumyr", "Kara-Kul", "Nooken",
    ),
    "naryn": ("Naryn", "At-Bashy", "Kochkor", "Chaek", "Baetov"),
    "osh-region": (
        "Kara-Suu", "Nookat", "Uzgen", "Aravan", "Kara-Kulja", "Gulcha", "Daroot-Korgon",
        "Papan", "Mady", "Kurshab",
    ),
    "talas": ("Talas", "Kara-Buura", "Bakai-Ata", "Manas", "Kyzyl-Adyr"),
    "bishkek": ("Leninsky district", "Oktyabrsky district", "Pervomaysky district",
                "Sverdlovsky district", "Ak-Orgo", "Kok-Jar", "Arashan"),
    "osh-city": ("Kerme-Too", "Amir-Timur", "Turan", "Manas", "Kurmanjan-Datka"),
}  # fmt: skip

#: Words madrasa names are made of (invented combinations, marked "(sample)").
MADRASA_WORDS = (
    "Nur", "Ilim", "Bereke", "Yntymak", "Iman", "Hidayat", "Ikhlas", "Salam", "Rahma",
    "Taqwa", "Ihsan", "Marifat", "Hikmat", "Nurul Islam", "Darul Ulum", "Tawhid", "Sabr",
    "Amanat", "Adab", "Ak-Niet", "Umut", "Kut", "Jarik", "Baktyluu", "Ak-Jol", "Al-Amin",
    "Al-Huda", "Al-Furqan", "Sirat", "Fajr",
)  # fmt: skip

STREETS = (
    "Lenin", "Manas", "Toktogul", "Kurmanjan-Datka", "Chui", "Frunze", "Mira", "Sovetskaya",
    "Jibek-Jolu", "Ak-Bosogo", "Alykul Osmonov", "Erkindik", "Masaliev", "Gagarin",
)  # fmt: skip

VENUES = (
    "training centre",
    "district library",
    "regional Muftiate hall",
    "teachers' in-service institute",
    "youth centre",
    "hotel conference room",
)
