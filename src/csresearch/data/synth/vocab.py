"""The words of a synthetic world, per locale: company, CSM, plan, industry and competitor names, the
churn-reason comments, the survey answers and the currency and list prices.

A locale changes only labels and money, never a random draw: every list here has the same length in
every locale (the builder draws indices into them), so ``build_world(seed=s, locale="ja")`` has the same
accounts, subscriptions, events, churns and planted truths as ``build_world(seed=s)``, with Japanese
names and comments and yen prices. Codes the analyses and ``params/`` read (segments, regions, touch
tiers, churn-reason categories, sub-reasons, milestones, event names, ticket categories) stay codes.

The Japanese texts are written as a Japanese customer would write a cancellation form or a survey
answer, some with English product words (Salesforce, SSO, dashboard), so that a theme finder meets
the mixed corpora it will meet in practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOCALES = ("en", "ja")

# Yen per dollar of the demo's list prices: every yen price is exactly this multiple of the English
# world's, so shares of MRR, rates and every planted truth are the same in both worlds.
JPY_PER_USD = 120


@dataclass(frozen=True)
class Vocab:
    """Every label of one locale's world (lists the builder draws from have the same length in every
    locale)."""

    locale: str
    currency: str
    plans: tuple[str, str, str]            # display names of Starter, Growth, Enterprise
    addon: str
    industries: tuple[str, ...]
    company_a: tuple[str, ...]
    company_b: tuple[str, ...]
    company_forms: tuple[str, ...]         # "{a} {b} Inc" / "株式会社{a}{b}": str.format patterns
    csm_first: tuple[str, ...]
    csm_last: tuple[str, ...]
    digital_cs: str
    competitors: tuple[str, ...]
    churn_templates: dict[str, tuple[str, str, str, str]]
    leads: tuple[str, ...]
    tails: tuple[str, ...]
    fills: dict[str, tuple[str, ...]]
    lowercase_after_lead: bool             # English: "Honestly, we just weren't ..."
    survey_answers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # positive/neutral/negative

    @property
    def money_decimals(self) -> int:
        """Decimals amounts are rounded to: whole yen, cents otherwise."""
        return 0 if self.currency == "JPY" else 2

    def company(self, a: int, b: int, form: int) -> str:
        return self.company_forms[form].format(a=self.company_a[a], b=self.company_b[b])

    def person(self, first: int, last: int) -> str:
        return f"{self.csm_first[first]} {self.csm_last[last]}"


EN = Vocab(
    locale="en",
    currency="USD",
    plans=("Starter", "Growth", "Enterprise"),
    addon="Insights Add-on",
    industries=("Software", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Education",
                "Media", "Professional Services", "Logistics", "Real Estate"),
    company_a=("Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright", "Cedar",
               "Cobalt", "Copper", "Crest", "Delta", "Ember", "Evergreen", "Falcon", "Fern", "Granite",
               "Harbor", "Horizon", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus",
               "North", "Nova", "Oak", "Orbit", "Peak", "Pine", "Prairie", "Quartz", "Raven", "Ridge",
               "River", "Sage", "Silver", "Summit", "Terra", "Tidal", "Vertex", "Willow", "Zenith"),
    company_b=("Analytics", "Bio", "Capital", "Cloud", "Data", "Dynamics", "Energy", "Foods", "Health",
               "Logic", "Logistics", "Media", "Metrics", "Networks", "Partners", "Robotics", "Security",
               "Software", "Solutions", "Studios", "Systems", "Tech", "Works", "Ventures", "Labs"),
    company_forms=tuple(f"{{a}} {{b}} {c}" for c in ("Inc", "LLC", "Ltd", "GmbH", "Group", "Co", "Corp", "SA",
                                                     "BV", "Pty")),
    csm_first=("Ava", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara",
               "Liam", "Maya", "Nikhil", "Olivia", "Pavel", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor"),
    csm_last=("Adams", "Brooks", "Chen", "Duarte", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
              "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Silva", "Tanaka", "Weber"),
    digital_cs="Digital CS",
    competitors=("Northstar CX", "Pulseboard", "Retainly", "HelmSuccess", "Clarion", "Tallyho"),  # fictional
    churn_templates={
        "low_usage": (
            "We just weren't using it enough to justify the cost.",
            "Only {n} people on the team logged in regularly, adoption never took off.",
            "The tool never became part of our daily workflow.",
            "Our champion left and nobody else on the team was using it.",
        ),
        "onboarding_failure": (
            "Onboarding took too long and we never got to value.",
            "We could not finish the setup, the {integration} integration stalled.",
            "Implementation dragged on for months and we never went live.",
            "Nobody internally owned the rollout so the project never got off the ground.",
        ),
        "budget": (
            "Budget cuts this {period}, we have to reduce software spend.",
            "The price increase at renewal was too much for us.",
            "Finance asked us to consolidate tools to save costs.",
            "We can't afford it anymore given our budget this {period}.",
        ),
        "competitor": (
            "Switching to {competitor}, it is cheaper for our size.",
            "We moved to {competitor} because it has the features we need.",
            "{competitor} came bundled with our suite so we consolidated.",
            "Went with {competitor} after an evaluation, better fit for the team.",
        ),
        "product_gaps": (
            "Missing the {integration} integration we need.",
            "Reporting is too limited for what we need, we need custom dashboards.",
            "The product lacks features we need, like {feature}.",
            "No {feature} support, a dealbreaker for our team.",
        ),
        "support": (
            "Support was too slow, tickets stayed open for weeks.",
            "Too many bugs that never got fixed despite our tickets.",
            "We were frustrated with the support experience and response times.",
            "Recurring outages and slow support responses.",
        ),
        "company_closed": (
            "Our company is shutting down.",
            "We were acquired and the parent company uses another tool.",
            "Company is winding down operations.",
            "Restructuring, the team that used the product no longer exists.",
        ),
    },
    leads=("", "", "", "Honestly, ", "To be frank: ", "Feedback from the admin: ", "Per the account owner, "),
    tails=("", "", "", " Thanks for the help.", " We may come back later.", " No hard feelings.",
           " Please cancel at the end of the term."),
    fills={
        "integration": ("Salesforce", "HubSpot", "Zendesk", "Snowflake", "Jira", "NetSuite"),
        "feature": ("SSO", "a mobile app", "custom roles", "audit logs", "scheduled exports"),
        "period": ("quarter", "year", "fiscal year"),
        "n": ("two", "three", "a couple of", "very few"),
    },
    lowercase_after_lead=True,
    survey_answers={
        "positive": (
            "Easy to use, the whole team uses it every day.",
            "The dashboards make our weekly reporting much faster.",
            "Support answers quickly, very helpful.",
            "The Salesforce integration saves us a lot of time.",
            "We saw value right after onboarding.",
            "Great product, we are expanding to another team.",
        ),
        "neutral": (
            "Good overall, but the price feels a bit high.",
            "The features are fine, but some screens are hard to figure out.",
            "I would like more options to customise reports.",
            "CSV exports could be more flexible.",
            "No complaints in particular.",
            "Works well, though the mobile experience is lacking.",
        ),
        "negative": (
            "Too expensive for how little we use it.",
            "Missing features we need, so we still work in Excel.",
            "Hard to use, nobody knows how to set it up.",
            "Support takes days to reply.",
            "The dashboard is slow to load.",
            "We are looking at switching to a competitor.",
            "Budget cuts mean we may not renew.",
        ),
    },
)

JA = Vocab(
    locale="ja",
    currency="JPY",
    plans=("ライトプラン", "スタンダードプラン", "エンタープライズプラン"),
    addon="分析オプション",
    industries=("ソフトウェア・IT", "金融・保険", "医療・ヘルスケア", "小売・EC", "製造", "教育",
                "メディア・広告", "専門サービス", "物流・運輸", "不動産"),
    company_a=("青葉", "朝日", "東和", "北斗", "大和", "富士", "三和", "光陽", "日進", "中央", "山手", "明星",
               "共栄", "協和", "新光", "東邦", "太陽", "瑞穂", "若葉", "千代田", "港北", "松風", "緑川", "白石",
               "銀河", "彩雲", "星野", "月島", "高砂", "宝来", "弥生", "葵", "アオゾラ", "イロハ", "カエデ",
               "コハク", "サクラ", "スバル", "ツバサ", "トキワ", "ミライ", "ヒカリ", "ハヤテ", "ユニゾン",
               "リンクス", "ネクスト", "アルファ"),
    company_b=("テクノロジーズ", "システムズ", "ソリューションズ", "商事", "工業", "物産", "製作所",
               "ホールディングス", "ネットワークス", "データ", "ラボ", "デザイン", "メディカル", "フーズ",
               "ロジスティクス", "エナジー", "キャピタル", "不動産", "建設", "電機", "印刷", "産業", "クラウド",
               "コンサルティング", "サービス"),
    # 前株 and 後株 about equally, a few 合同会社 and 有限会社, as in a Japanese CRM; ten distinct forms, so
    # every account name is unique as in the English world
    company_forms=("株式会社{a}{b}", "{a}{b}株式会社", "株式会社{a}{b}ジャパン", "{a}{b}ジャパン株式会社",
                   "株式会社{a}{b}グループ", "{a}{b}グループ株式会社", "株式会社{a}{b}パートナーズ",
                   "{a}{b}パートナーズ株式会社", "合同会社{a}{b}", "有限会社{a}{b}"),
    csm_first=("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田",
               "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "清水", "山崎", "森", "池田"),   # 姓
    csm_last=("美咲", "翔太", "陽菜", "大輔", "結衣", "拓也", "彩花", "健太", "愛", "直樹", "真由美", "亮",
              "さくら", "悠斗", "理恵", "和也", "千尋", "誠", "由佳", "隼人"),                       # 名
    digital_cs="デジタルCSチーム",
    competitors=("カスタマーリンク", "サクセスナビ", "Retainly", "ハピネスクラウド", "ツナグCS", "CSポータル"),
    churn_templates={
        "low_usage": (
            "社内であまり使われておらず、費用に見合わないと判断しました。",
            "定期的にログインしていたのは{n}だけで、社内に定着しませんでした。",
            "日々の業務フローに組み込めず、現場から使い方が分からないという声が多かったです。",
            "推進担当者が退職し、ほかに使う人がいなくなりました。",
        ),
        "onboarding_failure": (
            "導入に時間がかかりすぎて、効果を実感する前に終わってしまいました。",
            "{integration}連携の設定が途中で止まり、初期設定を完了できませんでした。",
            "オンボーディングが数か月長引き、結局本番運用に至りませんでした。",
            "社内に導入の責任者がおらず、操作も複雑で使い方が分からないままでした。",
        ),
        "budget": (
            "{period}の予算削減により、ツール費用を見直すことになりました。",
            "更新時の値上げで価格が高いと感じ、継続を見送りました。",
            "経理からツールを統合してコストを下げるよう指示がありました。",
            "{period}の予算では価格が高く、これ以上は払えません。",
        ),
        "competitor": (
            "{competitor}に乗り換えます。当社の規模だとそちらの方が安いためです。",
            "必要な機能がそろっている{competitor}に乗り換えました。",
            "{competitor}が既存のスイートにバンドルされていたため、そちらに統一しました。",
            "比較検討の結果、チームに合う{competitor}への乗り換えを決めました。",
        ),
        "product_gaps": (
            "必要な{integration}連携がなく、機能不足で業務に使えませんでした。",
            "レポート機能が限られていて、custom dashboardが作れないなど機能不足でした。",
            "{feature}など、必要な機能が足りませんでした。",
            "{feature}に対応しておらず、機能不足が決め手になりました。",
        ),
        "support": (
            "サポートの返信が遅く、問い合わせが何週間も解決しませんでした。",
            "不具合を何度も報告しましたが、修正されませんでした。サポート対応に不満があります。",
            "サポート対応と回答のスピードに不満がありました。",
            "障害が繰り返し発生し、サポートの対応も遅かったです。",
        ),
        "company_closed": (
            "会社を清算することになりました。",
            "買収され、親会社が別のツールを使っているため解約します。",
            "事業を縮小し、営業を終了します。",
            "組織再編で、このツールを使っていた部署がなくなりました。",
        ),
    },
    leads=("", "", "", "正直なところ、", "率直に申し上げると、", "管理者より：", "担当者によると、"),
    tails=("", "", "", "これまでありがとうございました。", "また機会があれば検討します。",
           "サービス自体に大きな不満があるわけではありません。", "契約期間の終了をもって解約をお願いします。"),
    fills={
        "integration": ("Salesforce", "HubSpot", "kintone", "freee", "Slack", "Chatwork"),
        "feature": ("SSO", "スマホアプリ", "細かい権限設定", "監査ログ", "CSVの定期出力"),
        "period": ("今期", "来年度", "下期"),
        "n": ("2人", "3人", "数人", "ごく一部のメンバー"),
    },
    lowercase_after_lead=False,
    survey_answers={
        "positive": (
            "使いやすくて、チーム全員が毎日使っています。",
            "ダッシュボードが見やすく、週次の報告がとても楽になりました。",
            "サポートの対応が早くて助かっています。",
            "Salesforce連携が便利で、入力の手間が減りました。",
            "導入してすぐに効果を実感できました。",
            "とても満足しています。別の部署にも展開する予定です。",
        ),
        "neutral": (
            "全体的には満足していますが、価格が少し高いと感じます。",
            "機能は十分ですが、画面によっては使い方が分からないところがあります。",
            "レポートをもう少し自由にカスタマイズしたいです。",
            "CSV出力がもっと柔軟だと嬉しいです。",
            "特に不満はありません。",
            "便利ですが、スマホアプリが使いにくいです。",
        ),
        "negative": (
            "使いこなせていないのに価格が高いです。",
            "必要な機能が足りず、結局Excelで補っています。機能不足です。",
            "操作が複雑で使い方が分からないです。",
            "サポートの返信が遅く、何日も待たされます。",
            "dashboardの表示が重くて時間がかかります。",
            "競合サービスへの乗り換えを検討しています。",
            "予算削減のため、更新するかどうか検討中です。",
        ),
    },
)

VOCABS = {"en": EN, "ja": JA}


def vocab_for(locale: str) -> Vocab:
    """The words of ``locale`` (en or ja); ValueError otherwise."""
    if locale not in VOCABS:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}, not {locale!r}")
    return VOCABS[locale]


# Yen list prices per seat and month: the English world's dollar prices times JPY_PER_USD
# (Starter 3,000円, Growth 5,400円, Enterprise 9,000円, the add-on 1,200円; annual contracts 15% off,
# still whole yen).
def yen_prices(dollar_prices: dict[str, float]) -> dict[str, float]:
    return {plan: float(price) * JPY_PER_USD for plan, price in dollar_prices.items()}
