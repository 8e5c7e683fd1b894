"""Synthetic content, part 3: money, studying, work and email, and tech help (format: synthetic_render)."""

__all__ = ["TOPICS"]

MONEY = """
Q: How do I start a monthly budget?
- Write down your monthly income after tax. | Your budget has to start from what actually arrives.
- List your fixed bills and then your flexible spending. | Fixed costs show what is already committed.
- Give every leftover pound a job, such as savings or debt. | Money without a plan tends to disappear.
E: For example, with 2,000 a month after tax, you might set 1,000 for bills, 600 for living costs and 400 for savings.
C: Review the budget after the first month, because most first budgets underestimate irregular costs.

Q: How can I build an emergency fund?
- Set a first goal of one month of essential expenses. | A small goal feels achievable and builds the habit.
- Set up an automatic transfer on payday. | Saving first means you never see the money to spend.
- Keep the fund in a separate easy-access savings account. | Separation stops you dipping into it for everyday spending.
E: For instance, saving 100 a month into a separate account builds a 1,200 cushion in a year.
C: Keep your emergency fund out of investments, since their value can drop right when you need the money.

Q: How do I pay off credit card debt faster?
- Pay more than the minimum every month. | Minimum payments mostly cover interest.
- Focus extra payments on the card with the highest interest rate. | This saves the most money overall.
- Stop adding new spending to the cards. | Otherwise the balance keeps growing.
E: For example, paying 150 instead of the 50 minimum on a 3,000 balance can cut years off the repayment time.
C: Be cautious with balance transfer offers, since high fees or rates can kick in when the promotion ends.

Q: How can I save money on groceries?
- Plan meals and shop with a list. | Lists prevent impulse buys.
- Compare prices per kilogram rather than per pack. | Larger packs are not always cheaper.
- Choose supermarket own brands. | They are often just as good for much less.
E: For instance, switching to own-brand pasta, tinned tomatoes and cereal can cut a weekly shop by a fifth.
C: Watch out for multi-buy deals on things you do not need, since they only save money if you use them.

Q: How do I start investing with a small amount?
- Pay off high-interest debt first. | Debt interest usually outweighs investment returns.
- Choose a low-cost index fund. | Index funds spread risk across many companies.
- Invest a fixed amount every month. | Regular investing smooths out market ups and downs.
E: For example, 50 a month into a global index fund through a low-fee platform is a common way to start.
C: Only invest money you will not need for at least five years, because investments can fall in value.

Q: How can I cut my monthly bills?
- Review your subscriptions and cancel unused ones. | Small subscriptions add up quickly.
- Compare energy, phone and internet deals every year. | Loyal customers often pay the most.
- Call your providers and ask for a better deal. | Many will offer discounts to keep you.
E: For instance, switching to a SIM-only phone plan after your contract ends can save hundreds a year.
C: Check exit fees before switching, since leaving a contract early can cost more than you save.

Q: How do I improve my credit score?
- Pay every bill on time. | Payment history is the biggest factor in your score.
- Keep your credit card balances low. | Using a small share of your limit looks responsible.
- Check your credit report for errors. | Mistakes can drag your score down unfairly.
E: For example, setting up direct debits for minimum payments means you never miss a due date.
C: Avoid applying for lots of credit in a short time, since each application can lower your score.

Q: How do I save for a holiday without stress?
- Decide the total cost and the date first. | A clear target shows how much to save each month.
- Open a separate savings pot for the trip. | Seeing it grow keeps you motivated.
- Cut one regular expense and redirect the money. | Small swaps fund the trip painlessly.
E: For instance, a 1,200 trip in ten months needs 120 a month, or about 30 a week.
C: Check what your travel insurance and cancellation terms cover before booking.

Q: How do I avoid impulse buying online?
- Wait 24 hours before buying anything non-essential. | The urge often fades overnight.
- Unsubscribe from marketing emails. | Fewer offers mean fewer temptations.
- Remove saved card details from shopping sites. | Extra steps make you pause.
E: For example, leaving items in your basket overnight often shows you did not really want them.
C: Be wary of countdown timers and limited stock messages, which are designed to rush you.

Q: How do I split bills fairly with flatmates?
- Agree on how costs will be split before moving in. | Clear rules prevent arguments later.
- Use a shared expenses app. | An app tracks who owes what automatically.
- Settle up on a fixed day each month. | Regular settling stops debts building up.
E: For instance, splitting rent by room size and bills equally is a common fair arrangement.
C: Make sure everyone's name is on the tenancy and bills where possible, so one person is not left liable.

Q: How do I plan for retirement in my twenties?
- Join your workplace pension scheme. | Employers often add money on top of yours.
- Increase your contributions with each pay rise. | You will not miss money you never had.
- Invest for the long term in low-cost funds. | Time lets compound growth do the heavy lifting.
E: For example, contributing 5 percent of salary with an employer match can grow into a large pot over forty years.
C: Check the fees on your pension, since high charges eat into returns over decades.

Q: How do I stop living paycheck to paycheck?
- Track every expense for one month. | You cannot fix what you cannot see.
- Build a small buffer, even just a week of spending. | A buffer breaks the cycle of running out.
- Cut back on one big expense. | A single big change beats many tiny ones.
E: For instance, tracking spending often reveals a hundred or more a month going on takeaways.
C: Seek free debt advice if you are borrowing to cover essentials, before it gets harder to manage.

Q: How do I negotiate a lower price on a big purchase?
- Research the usual price before you go. | Knowledge gives you leverage.
- Ask politely if there is any flexibility on the price. | Many sellers have room to move but wait to be asked.
- Be ready to walk away. | Your willingness to leave is your strongest position.
E: For example, asking whether a sofa can be discounted if you take the display model can save a good amount.
C: Read the warranty and return terms before agreeing, since discounted items sometimes have fewer protections.

Q: How do I spot a financial scam?
- Be suspicious of unexpected calls, texts or emails about money. | Scammers often pose as banks or officials.
- Never share passwords or one-time codes. | Genuine organisations never ask for them.
- Check contact details independently. | Calling the official number confirms whether a request is real.
E: For instance, a text saying your account is locked with a link to click is a classic scam.
C: Contact your bank straight away if you think you have been scammed, since fast action can stop payments.

Q: How do I choose a good savings account?
- Compare interest rates across several banks. | Rates vary widely.
- Check whether the rate is fixed or variable. | Variable rates can drop after you open the account.
- Consider how quickly you need access to the money. | Higher rates often require locking money away.
E: For example, an easy-access account suits an emergency fund, while a one-year fixed account suits savings for next year.
C: Make sure the bank is covered by your country's deposit protection scheme.

Q: How should I handle a surprise windfall?
- Pause before spending any of it. | A short pause prevents regretful decisions.
- Pay off expensive debt first. | Clearing debt is a guaranteed return.
- Split the rest between savings and something fun. | A treat makes the plan easier to stick to.
E: For instance, with a 2,000 bonus, you might clear a 1,000 card balance, save 700 and spend 300 on something you enjoy.
C: Check whether the windfall is taxable, so you are not caught out later.

Q: How do I ask for a refund when a product is faulty?
- Contact the seller as soon as you notice the fault. | Acting quickly strengthens your claim.
- Keep the receipt, photos and any messages. | Evidence makes your case clear.
- State clearly what you want, such as a refund or a replacement. | Clear requests get faster results.
E: For example, emailing photos of a cracked blender with your order number usually gets a quick reply.
C: Know your consumer rights, because sellers sometimes claim you are not entitled to a refund when you are.
"""

STUDYING = """
Q: How can I study more effectively for exams?
- Test yourself instead of rereading your notes. | Recalling information strengthens memory far more than reading it again.
- Spread your study sessions over several days. | Spaced practice helps you remember for longer than cramming.
- Mix different topics in one session. | Switching between topics teaches you to choose the right method.
E: For example, covering each chapter with flashcards on day one, day three and day seven beats a full day of rereading.
C: Do not cut sleep to study late, because sleep is when your brain stores what you have learned.

Q: How do I stop procrastinating on assignments?
- Break the assignment into small, concrete tasks. | Small steps feel easier to start.
- Work in focused blocks of twenty-five minutes. | Short blocks make starting less daunting.
- Put your phone in another room while you work. | Removing distractions makes focus easier.
E: For instance, write the essay outline today, the introduction tomorrow and one section a day after that.
C: Start early on big projects, since unexpected problems always take longer than planned.

Q: How do I take better notes in lectures?
- Write down key ideas in your own words. | Rephrasing helps you understand instead of copying.
- Leave space to add notes after the lecture. | Reviewing and filling gaps strengthens memory.
- Review your notes within 24 hours. | A quick review locks in the material.
E: For example, the Cornell method splits the page into notes, questions and a short summary at the bottom.
C: Avoid trying to write everything down, since you will miss the explanations that matter most.

Q: How can I remember what I read?
- Skim the headings and summary first. | A preview gives your brain a structure to fill in.
- Pause after each section and summarise it. | Summarising checks your understanding.
- Teach the ideas to someone else. | Explaining reveals gaps in your knowledge.
E: For instance, writing three bullet points after each chapter helps you recall the whole book later.
C: Take regular breaks during long reading sessions, because concentration fades after about an hour.

Q: How do I learn a new language on my own?
- Practise a little every day. | Daily practice works better than occasional long sessions.
- Learn the most common words first. | A small set of words covers most everyday conversation.
- Speak out loud from the start. | Speaking builds confidence and pronunciation.
E: For example, fifteen minutes of a language app each morning plus one online conversation a week makes steady progress.
C: Do not worry about making mistakes, since fear of mistakes slows learning more than the errors do.

Q: How do I manage my time as a student?
- Use a calendar for classes, deadlines and study time. | Seeing everything in one place prevents surprises.
- Plan each week on Sunday. | A weekly plan keeps you ahead.
- Tackle the hardest task when your energy is highest. | Difficult work goes better when you are fresh.
E: For instance, blocking two hours each morning for coursework keeps assignments on track.
C: Leave free time in your schedule, since overplanning leads to burnout.

Q: How do I prepare for a maths exam?
- Do as many past papers as you can. | Practice shows you the type of questions to expect.
- Check your answers and work out where you went wrong. | Understanding mistakes prevents repeating them.
- Learn key formulas by using them. | Applying formulas helps you remember them.
E: For example, doing one timed past paper a day in the final two weeks builds speed and confidence.
C: Read each question carefully in the exam, since small misreadings cost easy marks.

Q: How do I write a good essay?
- Start with a clear thesis statement. | A clear argument guides the whole essay.
- Make an outline before writing. | An outline keeps your points in a logical order.
- Support each point with evidence. | Evidence makes your argument convincing.
E: For instance, an outline with an introduction, three main points and a conclusion keeps a 1,500 word essay focused.
C: Cite all your sources, since unattributed quotes count as plagiarism.

Q: How can I focus better while studying?
- Study in the same quiet place each time. | Your brain learns to associate that place with focus.
- Set a specific goal for each session. | A clear goal keeps you on track.
- Take a short break every hour. | Breaks restore concentration.
E: For example, aiming to finish ten practice questions in an hour works better than studying maths for the afternoon.
C: Avoid relying on energy drinks, since they can disrupt your sleep and make focus worse.

Q: How do I study in a group without wasting time?
- Agree on an agenda before meeting. | A plan keeps the group on task.
- Keep groups small. | Three or four people can all contribute.
- Take turns explaining topics. | Teaching each other deepens understanding.
E: For instance, each member can prepare one topic and present it for ten minutes.
C: Do your individual study as well, since group sessions work best after you have done the reading.

Q: How do I overcome exam anxiety?
- Prepare early and practise under exam conditions. | Familiarity reduces anxiety.
- Use slow breathing when you feel nervous. | It calms your body.
- Get a good night's sleep before the exam. | Rest improves memory and clear thinking.
E: For example, breathing in for four seconds and out for six before the exam begins can settle your nerves.
C: Talk to your school's support services if anxiety is severe, since they may offer help or adjustments.

Q: How do I read a textbook efficiently?
- Read the chapter questions first. | They tell you what is important.
- Read actively with a pen in hand. | Writing notes keeps you engaged.
- Summarise each section in one sentence. | Summaries check your understanding.
E: For instance, skimming the questions at the end of a chapter first makes you look for the answers while reading.
C: Avoid highlighting everything, since it feels productive but does little for memory.

Q: How do I start a research project?
- Choose a question you find genuinely interesting. | Interest keeps you motivated over months.
- Read a few review articles first. | Reviews give you an overview of the field.
- Narrow the question until it is answerable. | A focused question leads to a manageable project.
E: For example, narrowing how social media affects teenagers to how late-night phone use affects sleep in sixteen-year-olds makes the project doable.
C: Check your institution's ethics rules before collecting data from people.

Q: How do I balance study with a part-time job?
- Tell your employer about your study schedule. | They may plan shifts around your exams.
- Use small gaps for review. | Flashcards on the bus add up.
- Protect your sleep. | Tiredness makes both work and study harder.
E: For instance, keeping weekday evenings for study and working weekend shifts gives you a steady routine.
C: Reduce your hours before exams if you can, since overload can hurt your grades.

Q: How do I give a good class presentation?
- Know your main message. | A single clear message makes the talk memorable.
- Practise out loud several times. | Rehearsal builds confidence and timing.
- Keep slides simple with few words. | Your audience should listen to you, not read.
E: For example, practising three times in front of a mirror or a friend makes the real thing feel much easier.
C: Check the technology before you start, since projector problems are a common source of stress.

Q: How do I memorise vocabulary?
- Use spaced repetition flashcards. | They show words just before you forget them.
- Learn words in context. | Sentences are easier to remember than lists.
- Use new words in your own sentences. | Using them makes them stick.
E: For instance, learning ten new words a day with flashcards adds up to 300 words a month.
C: Review old words as well as new ones, since vocabulary fades without practice.

Q: How do I choose what to study at university?
- Think about which subjects you enjoy the most. | Interest keeps you going for years.
- Research the careers each course leads to. | Knowing the options helps you plan.
- Talk to current students. | They can tell you what the course is really like.
E: For example, attending an open day and sitting in on a lecture can show you if a subject suits you.
C: Check the entry requirements and costs early, since they vary a lot between courses.
"""

WORK = """
Q: How do I write a professional email to my manager?
- Use a clear subject line that says what the email is about. | Your manager can prioritise it at a glance.
- Put your main point or request in the first two sentences. | Busy readers may not read to the end.
- End with a specific next step or deadline. | A clear ask gets a faster reply.
E: For example, a subject line like budget approval needed by Friday, followed by two short paragraphs, gets attention quickly.
C: Reread the email before sending, since a wrong name or a harsh tone is hard to take back.

Q: How do I ask for a raise?
- Research the typical salary for your role. | Market data makes your request credible.
- List your achievements with numbers. | Concrete results show your value.
- Schedule a dedicated meeting. | A proper conversation shows you take it seriously.
E: For instance, showing that you led a project that saved 20 percent on costs makes a strong case.
C: Avoid making threats about leaving unless you are prepared to go.

Q: How do I run a productive meeting?
- Send an agenda in advance. | People arrive prepared.
- Keep the meeting short and start on time. | Respecting time keeps people engaged.
- End with clear action points and owners. | Everyone knows what happens next.
E: For example, a thirty-minute meeting with three agenda items and a written summary afterwards keeps a project moving.
C: Do not invite people who are not needed, since unnecessary attendees waste time.

Q: How do I deal with a difficult coworker?
- Stay calm and professional. | Keeping your cool keeps the situation from escalating.
- Talk to them privately about specific behaviour. | Private conversations avoid embarrassment.
- Focus on the work, not the person. | It keeps the discussion constructive.
E: For instance, saying that the reports have been late three times and asking how you can fix it together works better than blaming.
C: Keep notes and involve your manager or HR if the behaviour becomes harassment.

Q: How do I manage a heavy workload?
- List everything you need to do. | A full list shows the real workload.
- Prioritise by urgency and importance. | Important tasks get done first.
- Tell your manager if the load is unrealistic. | They can help reprioritise.
E: For example, picking your top three tasks each morning keeps you focused on what matters.
C: Watch for signs of burnout, such as constant exhaustion, and speak up early.

Q: How do I prepare for a job interview?
- Research the company and the role. | Knowledge shows genuine interest.
- Prepare examples of your achievements. | Stories prove your skills.
- Practise common questions out loud. | Practice makes your answers smoother.
E: For instance, preparing three stories using the situation, task, action and result structure covers most behavioural questions.
C: Plan your journey and arrive early, since being late makes a poor first impression.

Q: How do I give constructive feedback to a colleague?
- Be specific about the behaviour. | Vague feedback is hard to act on.
- Explain the impact. | Understanding the effect motivates change.
- Suggest a way forward. | It makes the feedback useful.
E: For example, saying that the slides were dense, people lost track, and splitting them next time would help is clear and kind.
C: Give critical feedback in private, since public criticism embarrasses people.

Q: How do I handle too many emails?
- Check email at set times instead of constantly. | Constant checking breaks your focus.
- Use folders or labels to sort messages. | Organisation makes things easier to find.
- Unsubscribe from newsletters you do not read. | Fewer emails mean less clutter.
E: For instance, checking email at 9 am, noon and 4 pm frees long stretches for focused work.
C: Set up filters carefully, since important messages can end up hidden.

Q: How do I write a good CV?
- Keep it to one or two pages. | Recruiters skim quickly.
- Start each point with an action verb and a result. | It shows what you achieved.
- Tailor the CV to each job. | Matching the job description gets you noticed.
E: For example, saying you cut customer response time by 30 percent is stronger than saying you handled customer emails.
C: Double-check spelling and contact details, since a single mistake can cost you an interview.

Q: How do I work effectively from home?
- Set up a dedicated workspace. | A separate space helps you switch into work mode.
- Keep regular working hours. | Routine protects your personal time.
- Take proper breaks away from the screen. | Breaks keep your energy up.
E: For instance, starting at nine, a lunch walk at one and a clear finish at half five keeps the day structured.
C: Set up your chair and screen properly, since poor posture at home can cause back pain.

Q: How do I say no to extra work politely?
- Thank the person for thinking of you. | It keeps the tone positive.
- Explain your current priorities. | It shows why you cannot take it on.
- Offer an alternative if you can. | A compromise keeps goodwill.
E: For example, saying you are focused on the launch this week but could help next Tuesday sets a clear boundary.
C: Check with your manager if the request comes from senior leadership.

Q: How do I write a clear report?
- Start with a short summary of the key findings. | Readers get the point immediately.
- Use headings to organise sections. | Headings make it easy to navigate.
- Support claims with data and charts. | Evidence makes the report credible.
E: For instance, a one-paragraph summary followed by three headed sections suits most short reports.
C: Check the numbers carefully, since one wrong figure undermines the whole report.

Q: How do I make a good impression in a new job?
- Learn people's names quickly. | It builds relationships.
- Ask questions and take notes. | It shows interest and helps you learn.
- Deliver small wins early. | Early successes build trust.
E: For example, setting up short introductions with each team member in the first two weeks helps you settle in.
C: Avoid criticising existing processes too soon, since you may not know the full story.

Q: How do I follow up after a job interview?
- Send a thank-you email within a day. | It shows enthusiasm and professionalism.
- Mention something specific from the conversation. | It makes your email memorable.
- Ask about the timeline if they did not say. | It sets your expectations.
E: For instance, thanking the interviewer and mentioning your interest in their new product keeps you in mind.
C: Avoid following up too often, since repeated emails can come across as pushy.

Q: How do I handle a mistake I made at work?
- Own up to it quickly. | Early honesty builds trust.
- Explain what happened and its impact. | Clarity helps everyone respond.
- Propose a fix and a way to prevent it. | It shows responsibility.
E: For example, telling your manager that an invoice went out with the wrong amount, and that you have already sent a correction, shows accountability.
C: Do not try to hide mistakes, since they usually come out and cause more damage later.

Q: How do I network if I am shy?
- Start with people you already know. | Familiar contacts are less intimidating.
- Prepare a few questions to ask. | Questions keep conversations flowing.
- Follow up with a short message after meeting someone. | It turns a chat into a connection.
E: For instance, asking what someone is working on at the moment is an easy conversation starter.
C: Do not overcommit to events, since you need time to recharge.

Q: How do I plan a project at work?
- Define the goal and what done looks like. | A clear goal keeps everyone aligned.
- Break the project into milestones. | Milestones make progress visible.
- Assign owners and deadlines for each task. | Clear ownership avoids confusion.
E: For example, a three-month project might have milestones for research, design, build and launch.
C: Build in extra time for delays, since most projects take longer than planned.
"""

TECH = """
Q: How do I speed up a slow laptop?
- Restart the laptop and install pending updates. | Updates fix bugs, and a restart clears stuck processes.
- Close or uninstall programs you do not use. | Background programs eat memory and slow everything down.
- Check that at least fifteen percent of the disk is free. | A nearly full disk slows the whole system.
E: For example, removing startup apps you never use can cut boot time from two minutes to under one.
C: Back up your files before deleting anything or changing system settings.

Q: How do I create a strong password?
- Use a passphrase of four or more random words. | Long passphrases are hard to crack but easy to remember.
- Use a different password for every account. | One leak then cannot unlock your other accounts.
- Store your passwords in a password manager. | It remembers them so you do not have to reuse them.
E: For instance, a phrase like four unrelated words joined together is far stronger than a short word with a number on the end.
C: Turn on two-factor authentication for email and banking, since a password alone can still be stolen.

Q: How do I back up my phone?
- Turn on automatic cloud backup in your settings. | Automatic backups happen without you remembering.
- Back up photos to a cloud photo service. | Photos are usually the hardest thing to replace.
- Make an occasional backup to your computer. | A second copy protects you if the cloud account has problems.
E: For example, cloud backup over Wi-Fi each night means a lost phone costs you nothing but the phone itself.
C: Check that your backups actually work by restoring a file now and then.

Q: How do I fix a slow home Wi-Fi connection?
- Restart your router. | A restart clears temporary glitches.
- Move the router to a central, open spot. | Walls and cupboards block the signal.
- Check which devices are using bandwidth. | Large downloads and streaming can slow everyone else.
E: For instance, moving a router from a cupboard to a shelf in the hallway can double the speed upstairs.
C: Change the default router password, since anyone nearby could otherwise access your network.

Q: How do I spot a phishing email?
- Check the sender's full email address. | Fake emails often use addresses that look almost right.
- Be suspicious of urgent requests to click a link. | Pressure is a common phishing tactic.
- Hover over links to see where they really go. | The real address reveals fake sites.
E: For example, an email claiming to be from your bank but sent from a strange address, asking you to verify your account, is a classic phishing attempt.
C: Never enter your password on a page opened from an email link, and report suspicious emails to your provider.

Q: How do I free up storage on my phone?
- Delete apps you have not used in months. | Unused apps take up a lot of space.
- Move photos and videos to cloud storage. | Media files are usually the biggest space users.
- Clear old messages with large attachments. | Chat apps store a surprising amount of media.
E: For instance, clearing old videos from a messaging app can free several gigabytes.
C: Make sure your photos are backed up before deleting them from the phone.

Q: How do I set up two-factor authentication?
- Open the security settings of the account. | Most services offer it there.
- Choose an authenticator app rather than text messages. | Apps are more secure than SMS codes.
- Save the backup codes somewhere safe. | Codes let you in if you lose your phone.
E: For example, turning on two-factor authentication for your email takes about five minutes with an authenticator app.
C: Store backup codes offline, since losing your phone without them can lock you out.

Q: How do I keep my computer safe from viruses?
- Keep your operating system and apps updated. | Updates patch security holes.
- Use the built-in antivirus protection. | Modern systems include good free protection.
- Download software only from official sources. | Unofficial downloads often hide malware.
E: For instance, turning on automatic updates keeps your system protected without you thinking about it.
C: Do not open unexpected email attachments, even from people you know.

Q: How do I organise the files on my computer?
- Create a simple folder structure. | A clear structure makes files easy to find.
- Use consistent, descriptive file names. | Good names make searching easier.
- Clear out your downloads folder regularly. | It fills up with clutter fast.
E: For example, folders for work, personal and archive, with subfolders by year, keep most files tidy.
C: Back up important files before reorganising, in case something gets deleted.

Q: How do I make my phone battery last longer?
- Lower the screen brightness. | The screen uses the most power.
- Turn off location for apps that do not need it. | Constant location tracking drains the battery.
- Use battery saver mode when running low. | It limits background activity.
E: For instance, switching to dark mode and auto-brightness can add hours of use.
C: Avoid leaving your phone in hot places, such as a car dashboard, since heat damages batteries.

Q: How do I connect a printer to my Wi-Fi?
- Put the printer in setup mode. | Most printers have a Wi-Fi setup button.
- Select your network and enter the password. | This connects the printer to your home network.
- Install the printer software on your computer. | The software lets your computer find the printer.
E: For example, many printers have a Wi-Fi button you hold for a few seconds to start setup.
C: Download drivers only from the manufacturer's website, not from third-party sites.

Q: How do I video call my family for the first time?
- Choose an app everyone can use. | Using the same app avoids confusion.
- Test your camera and microphone before the call. | Testing avoids problems at the start.
- Sit facing a window or light. | Good lighting makes you easy to see.
E: For instance, a short test call with one family member the day before makes the big call go smoothly.
C: Only join calls from links you trust, since fake meeting links can be used for scams.

Q: How do I clean my laptop safely?
- Turn off and unplug the laptop first. | It protects you and the device.
- Use a microfibre cloth for the screen. | It cleans without scratching.
- Use compressed air for the keyboard. | It blows out crumbs and dust.
E: For example, a monthly wipe of the keyboard and screen keeps a laptop looking new.
C: Never spray liquid directly onto the laptop, since moisture can damage the electronics.

Q: How do I protect my privacy online?
- Review the privacy settings on your social media accounts. | Default settings often share a lot.
- Limit the personal information you post. | Less information means less risk.
- Use private browsing for sensitive searches. | It reduces stored history.
E: For instance, making your social media profile visible to friends only hides your posts from strangers.
C: Be careful with public Wi-Fi, and avoid logging into banking on open networks.

Q: How do I transfer data to a new phone?
- Back up your old phone first. | A backup protects your data during the move.
- Use the built-in transfer tool. | Most phones offer a guided transfer.
- Check that everything transferred before wiping the old phone. | You can still recover missing items.
E: For example, placing the two phones side by side during setup can transfer apps, photos and messages automatically.
C: Sign out of accounts and wipe the old phone before selling it, so your data stays private.

Q: How do I recover a deleted file?
- Check the recycle bin or trash first. | Deleted files usually go there.
- Look in your cloud storage's deleted items. | Cloud services keep deleted files for a while.
- Stop saving new files to the drive. | New data can overwrite the deleted file.
E: For instance, many cloud drives keep deleted files for thirty days before removing them permanently.
C: Use reputable recovery software only, since some free tools contain malware.

Q: How do I set up parental controls on a tablet?
- Create a separate child account. | It keeps their settings separate from yours.
- Set content restrictions by age rating. | It blocks apps and videos that are not suitable.
- Set daily time limits. | Limits help manage screen time.
E: For example, a child account that only allows apps rated for under sevens and one hour a day is easy to set up.
C: Review the settings regularly, since children often find ways around restrictions.
"""

TOPICS = {
    "money": MONEY,
    "studying": STUDYING,
    "work and email": WORK,
    "tech help": TECH,
}
