"""Synthetic content, part 2: travel, fitness, health habits and parenting (format: synthetic_render)."""

__all__ = ["TOPICS"]

TRAVEL = """
Q: How do I pack light for a one-week trip?
- Choose clothes in two or three colours that all match. | Every top then works with every bottom, so you need fewer items.
- Plan to do laundry once during the trip. | Washing a few things halfway through halves what you need to carry.
- Wear your bulkiest shoes and jacket on the journey. | They take up the most space in a bag.
E: For example, three tops, two bottoms, one warm layer and one pair of extra shoes fit easily in a cabin-sized backpack.
C: Keep medication, passports and chargers in your hand luggage, since checked bags can go missing.

Q: How can I find cheap flights?
- Compare prices on a flight search site with flexible dates. | Moving your trip by a day or two can cut the fare a lot.
- Book around six to eight weeks ahead for short trips. | Prices tend to rise sharply in the last few weeks.
- Check nearby airports as well as the main one. | Smaller airports often have cheaper routes.
E: For instance, flying on a Tuesday instead of a Friday can save a third of the fare on many European routes.
C: Check the baggage fees before booking, because a cheap fare can end up costing more than a regular one.

Q: How do I deal with jet lag?
- Switch to the local schedule as soon as you arrive. | Eating and sleeping at local times resets your body clock faster.
- Get bright daylight in the morning at your destination. | Morning light is the strongest signal for your internal clock.
- Avoid long naps on the first day. | A short nap is fine, but a long one makes the first night harder.
E: For example, after an overnight flight to New York, a walk outside in the morning and an early dinner help you sleep by 10 pm.
C: Go easy on alcohol and sleeping pills on the flight, as both can disturb sleep and dehydrate you.

Q: What should I do before travelling abroad?
- Check your passport expiry date and any visa rules. | Many countries need six months of validity left on your passport.
- Tell your bank where you are going. | Banks sometimes block cards used unexpectedly abroad.
- Buy travel insurance as soon as you book. | Insurance then also covers you if you need to cancel.
E: For instance, a trip to Thailand needs a passport valid for six months and a check of entry rules well before you fly.
C: Check whether you need vaccinations for your destination, since some need several weeks to take effect.

Q: How do I stay safe when travelling alone?
- Share your plans and accommodation details with someone at home. | Someone will notice quickly if something goes wrong.
- Arrive in new places during daylight. | Finding your way is easier and safer when it is light.
- Keep a copy of your passport and cards separate from the originals. | Replacing them is much easier with copies.
E: For example, sending a friend your hotel address and checking in by message each evening is a simple safety routine.
C: Trust your instincts and leave any situation that feels wrong, even if it seems rude.

Q: How can I travel on a tight budget?
- Travel outside school holidays. | Flights and hotels cost far less in the off-season.
- Stay in hostels or guesthouses with a kitchen. | Cooking some meals saves a lot over eating out.
- Use public transport instead of taxis. | Buses and trains are cheaper and a great way to see a place.
E: For instance, a week in Portugal in October can cost half as much as the same week in August.
C: Keep some emergency money aside, because unexpected costs always come up on the road.

Q: How do I avoid getting sick while travelling?
- Wash your hands often, especially before eating. | Most travel bugs spread from hands to mouth.
- Drink bottled or treated water where the tap water is unsafe. | Contaminated water is a common cause of stomach upsets.
- Eat food that is freshly cooked and served hot. | Heat kills most germs.
E: For example, busy street food stalls that cook to order are often safer than buffets where food sits out for hours.
C: See a doctor if you have a high fever or bloody diarrhoea after a trip, and mention where you travelled.

Q: How do I plan a road trip?
- Plan a rough route with no more than four or five hours of driving a day. | Long days at the wheel are tiring and leave no time to enjoy stops.
- Book the first and last nights and stay flexible in between. | Flexibility lets you stay longer in places you love.
- Service the car before you leave. | Checking tyres, oil and brakes prevents breakdowns far from home.
E: For instance, a week-long coastal road trip might cover 1,200 kilometres with two rest days along the way.
C: Swap drivers or take a break every two hours, since tiredness is a major cause of road accidents.

Q: How do I get around a city where I don't speak the language?
- Download an offline translation app and map before you go. | They work even without mobile data.
- Learn a handful of basic phrases. | Greetings and thank you go a long way with locals.
- Carry your hotel's address written in the local language. | You can show it to a taxi driver if you get lost.
E: For example, having your hotel's address in Japanese on your phone makes a taxi ride in Tokyo easy.
C: Use official taxis or ride apps, because unlicensed drivers sometimes overcharge tourists.

Q: How do I make a long flight more comfortable?
- Choose an aisle seat if you like to move around. | You can stretch and walk without disturbing anyone.
- Bring a neck pillow, eye mask and earplugs. | They make sleeping far easier in a noisy cabin.
- Drink water regularly during the flight. | Cabin air is very dry and dehydrates you.
E: For instance, a small bag with a pillow, a refillable bottle and a warm layer makes a twelve-hour flight much easier.
C: Walk and flex your calves every hour or two, since sitting still for long periods raises the risk of blood clots.

Q: How should I choose where to stay on holiday?
- Decide which area you want to be in before looking at hotels. | Location shapes your whole trip more than the room.
- Read recent reviews, not just the star rating. | Recent reviews show how the place is run now.
- Compare the total price including fees. | Cleaning and resort fees can change which option is cheaper.
E: For example, staying near a metro station in Paris can save more time than a fancier hotel far from the centre.
C: Book places with a free cancellation option when plans are uncertain.

Q: How do I keep my valuables safe while travelling?
- Use a money belt or a zipped inner pocket. | Pickpockets target open bags and back pockets.
- Split your cash and cards between different places. | Losing one bag does not leave you stranded.
- Use the room safe for passports you do not need that day. | Carrying them everywhere risks losing them.
E: For instance, keeping one card in your wallet and a backup card in the hotel safe means a stolen wallet is only an inconvenience.
C: Stay alert in crowded tourist spots and on public transport, where pickpockets are most active.

Q: How can I travel with kids without stress?
- Plan fewer activities than you would on your own. | Children need downtime, and rushed days lead to meltdowns.
- Pack snacks and small new toys for the journey. | Novelty and food keep children happy in transit.
- Book accommodation with a kitchen or fridge. | It makes meals and snacks much easier.
E: For example, one big outing in the morning and a pool or playground in the afternoon is a good daily rhythm.
C: Bring a basic first aid kit and any children's medicines, since they can be hard to find abroad.

Q: What should I do if I miss a connecting flight?
- Go straight to the airline's transfer desk or call them. | They rebook passengers on the next available flight.
- Check the airline app for rebooking options. | Apps often rebook you faster than the queue.
- Keep all receipts for meals and hotels. | You may be able to claim these costs back.
E: For instance, if your connection was missed because the first flight was late, the airline usually rebooks you at no cost.
C: Check your rights under local passenger rules, since some delays entitle you to compensation.

Q: How do I prepare for a hiking trip in the mountains?
- Check the weather forecast the evening before and in the morning. | Mountain weather changes quickly.
- Wear broken-in boots and bring layers. | New boots cause blisters, and temperatures drop with altitude.
- Tell someone your route and when you expect to be back. | Rescuers know where to look if you do not return.
E: For example, a day hike should include waterproofs, a warm layer, food, water, a map and a charged phone.
C: Turn back if the weather closes in or you are running late, because getting lost in the dark is dangerous.

Q: How do I use my phone abroad without huge charges?
- Check your plan's roaming rates before you go. | Some plans include roaming, while others charge a lot.
- Buy a local SIM or an eSIM data plan. | Local data is usually much cheaper than roaming.
- Download maps and entertainment before you leave. | You will use less mobile data on the trip.
E: For instance, a week of data on an eSIM often costs less than a single day of roaming on some plans.
C: Turn off data roaming in your settings until you have a plan sorted, since background apps can run up a bill.

Q: How can I be a more responsible tourist?
- Support local businesses and guides. | More of your money stays in the community.
- Learn about local customs and dress codes. | It shows respect and avoids offending people.
- Stick to marked paths in natural areas. | Straying damages fragile plants and habitats.
E: For example, eating at family-run restaurants and booking a local guide puts money directly into the community.
C: Ask before photographing people, especially children, as it can be considered disrespectful.
"""

FITNESS = """
Q: How do I start running as a complete beginner?
- Start with a walk-run plan. | Alternating running and walking builds fitness without exhausting you.
- Run at a pace where you can still talk. | An easy pace builds endurance and keeps running enjoyable.
- Run three times a week with rest days in between. | Rest days let your muscles and joints adapt.
E: For example, start with one minute of running and two minutes of walking, repeated eight times, and add a little more running each week.
C: Increase your total running by no more than about ten percent a week, since doing too much too soon causes injuries.

Q: How can I build muscle at home without equipment?
- Focus on push-ups, squats, lunges and planks. | These work all the major muscle groups.
- Make exercises harder as they get easier. | Muscles grow when they are challenged a little more over time.
- Train each muscle group two or three times a week. | Regular stimulus with rest in between drives growth.
E: For instance, three rounds of twelve squats, ten push-ups, ten lunges per leg and a thirty-second plank make a solid twenty-minute workout.
C: Keep your form strict and stop if you feel sharp pain, as poor form can strain your back and joints.

Q: How do I stay motivated to exercise?
- Schedule workouts like appointments. | A fixed time makes exercise a habit rather than a daily decision.
- Choose activities you actually enjoy. | You will keep doing something you like.
- Track your progress in a notebook or app. | Seeing improvement keeps you going.
E: For example, booking a weekly class with a friend makes it much harder to skip.
C: Take rest days when you need them, because pushing through exhaustion leads to burnout and injury.

Q: What should I eat before a workout?
- Eat a small meal with carbohydrates one to three hours before. | Carbohydrates give you energy for the session.
- Keep it light and low in fat and fibre. | Heavy food can cause stomach discomfort during exercise.
- Drink water in the hours before you train. | Starting hydrated helps performance.
E: For instance, a banana with peanut butter or a bowl of porridge an hour or two beforehand works well for most people.
C: Avoid trying new foods before a race or big event, since an unfamiliar meal can upset your stomach.

Q: How do I improve my flexibility?
- Stretch after exercise when your muscles are warm. | Warm muscles stretch further and more safely.
- Hold each stretch for about thirty seconds. | Short holds do little to improve flexibility.
- Stretch a little every day rather than a lot once a week. | Consistency matters more than intensity.
E: For example, ten minutes of hamstring, hip and shoulder stretches every evening noticeably improves flexibility within a month.
C: Stretch gently to mild tension, never pain, because overstretching can tear muscles.

Q: How do I start lifting weights at the gym?
- Learn the basic lifts with light weights first. | Good technique matters more than the weight on the bar.
- Follow a simple beginner programme. | A structured plan makes sure you progress steadily.
- Add weight slowly when you can complete all your sets with good form. | Gradual increases build strength safely.
E: For instance, a beginner plan of squats, presses, rows and deadlifts three times a week builds strength quickly.
C: Ask a trainer to check your form on squats and deadlifts, since poor technique under load can injure your back.

Q: How much should I walk each day to stay healthy?
- Aim for around 7,000 to 10,000 steps a day. | Research links this range with better health.
- Break your walking into short bouts. | Several ten-minute walks are just as helpful as one long one.
- Walk briskly for at least part of the time. | A faster pace benefits your heart more.
E: For example, a ten-minute walk after each meal adds up to about 4,000 steps a day.
C: Build up gradually if you have been inactive, and wear supportive shoes to protect your feet.

Q: How do I warm up properly before exercise?
- Start with five minutes of light cardio. | Raising your heart rate warms the muscles.
- Add dynamic movements that match your workout. | Leg swings before running or arm circles before lifting prepare those joints.
- Build up the intensity gradually. | A smooth build-up gets your body ready for harder effort.
E: For instance, before a run you might do five minutes of brisk walking, then leg swings, lunges and a few short strides.
C: Skip long static stretches before intense exercise, since they can temporarily reduce power.

Q: How can I get fit with only twenty minutes a day?
- Try interval training. | Short bursts of hard effort improve fitness quickly.
- Combine strength and cardio in a circuit. | Moving between exercises keeps your heart rate up.
- Be consistent every day. | Regular short sessions add up to a lot over a week.
E: For example, a circuit of thirty seconds of jumping jacks, squats, push-ups and mountain climbers, repeated five times, fits in twenty minutes.
C: Check with a doctor before starting high-intensity exercise if you have a heart condition.

Q: How do I avoid sore muscles after a workout?
- Increase the intensity of new workouts gradually. | Soreness is worst when you do something unfamiliar.
- Cool down with light movement. | Easy movement helps your muscles recover.
- Get enough sleep and protein. | Muscles repair themselves during rest.
E: For instance, an easy walk and some stretching the day after leg day often eases stiffness.
C: See a doctor if pain is sharp, in a joint, or comes with swelling, as that may be an injury rather than normal soreness.

Q: How do I start swimming for fitness?
- Start with short sessions and rest at the end of each length. | Swimming is tiring until your technique improves.
- Focus on breathing out steadily under water. | Holding your breath makes you tired quickly.
- Take a few lessons to improve your stroke. | Better technique makes swimming far easier.
E: For example, start with ten lengths of a 25 metre pool with rests, and add two lengths each week.
C: Swim in lifeguarded areas, especially in open water, where currents and cold can catch you out.

Q: How do I prepare for my first 5K race?
- Follow an eight-week training plan. | A plan builds your distance safely.
- Do one longer, easy run each week. | It builds the endurance you need.
- Practise your race-day routine. | Trying food, clothes and timing in advance avoids surprises.
E: For instance, a plan of three runs a week, building up to a continuous 5K by week eight, suits most beginners.
C: Start the race slower than you feel you should, because a fast start often leads to a painful finish.

Q: How do I fit exercise into a busy workday?
- Walk or cycle for part of your commute. | Exercise fits into time you already spend travelling.
- Take a walk during your lunch break. | A short walk clears your head too.
- Do short bodyweight sessions before work. | A quick morning session gets it done before the day takes over.
E: For example, getting off the bus two stops early adds twenty minutes of walking a day.
C: Take care on busy roads when walking or cycling, and wear bright clothing in the dark.

Q: How do I improve my posture?
- Set up your desk so the screen is at eye level. | A low screen pulls your head forward.
- Strengthen your back and core. | Strong muscles hold you upright without effort.
- Get up and move every thirty minutes. | Sitting still for long makes you slump.
E: For instance, rows, planks and bridges twice a week help keep your shoulders back.
C: See a physiotherapist if you have ongoing back or neck pain, rather than just trying to sit straighter.

Q: How do I exercise safely in hot weather?
- Exercise in the early morning or evening. | It is much cooler then.
- Drink water before, during and after exercise. | You lose a lot of fluid through sweat in the heat.
- Wear light, loose clothing. | Breathable clothes help your body cool.
E: For example, a 7 am run in summer feels much easier than the same run at midday.
C: Stop immediately if you feel dizzy, confused or sick, since these can be signs of heat exhaustion.

Q: How do I get back into exercise after a long break?
- Start at about half of what you used to do. | Your fitness drops faster than you expect.
- Focus on consistency before intensity. | Regular sessions rebuild fitness safely.
- Give yourself extra recovery time at first. | Your body needs time to adapt again.
E: For instance, if you used to run 10K, start with easy 3K runs three times a week.
C: Speak to your doctor first if your break was due to illness, surgery or injury.

Q: How do I choose good running shoes?
- Get fitted at a specialist running shop. | Staff can watch you run and suggest the right type.
- Pick comfort over looks or brand. | The most comfortable shoe is usually the right one.
- Leave a thumb's width of space at the toe. | Feet swell during running.
E: For example, trying three or four pairs with a short jog on a treadmill helps you feel the difference.
C: Replace shoes every 500 to 800 kilometres, since worn shoes offer less support and can lead to injuries.
"""

HEALTH = """
Q: How can I sleep better at night?
- Go to bed and wake up at the same time every day. | A steady schedule keeps your body clock in sync.
- Keep your bedroom cool, dark and quiet. | Cooler, darker rooms help you fall asleep and stay asleep.
- Avoid screens for an hour before bed. | Bright screens and scrolling keep your brain alert.
E: For instance, reading a paper book in dim light from 10 pm and lights out at 10:30 pm makes a calming routine.
C: See a doctor if you snore loudly or wake up gasping, since that can be a sign of sleep apnoea.

Q: How can I drink more water during the day?
- Keep a refillable bottle with you. | Having water in sight reminds you to drink.
- Drink a glass with each meal. | Linking it to a habit makes it automatic.
- Add fruit slices for flavour. | Flavoured water is more appealing than plain.
E: For example, finishing a 750 millilitre bottle by lunch and another by evening gets you to a healthy amount.
C: People with heart or kidney conditions should check with a doctor, as they may need to limit fluids.

Q: How can I cut down on sugar?
- Swap sugary drinks for water or sparkling water. | Drinks are one of the biggest sources of added sugar.
- Read labels for hidden sugars. | Sauces, cereals and yoghurts often contain a lot.
- Reduce sugar gradually. | Your taste buds adjust over a few weeks.
E: For instance, halving the sugar in your tea for two weeks, then halving it again, makes the change easy.
C: Be careful with sugar-free products that contain lots of sweeteners, which can upset your stomach.

Q: How can I eat more vegetables?
- Add a vegetable to every meal. | Small additions add up quickly.
- Keep frozen vegetables in the freezer. | They are just as nutritious and always ready.
- Blend vegetables into sauces and soups. | They disappear into the dish but still count.
E: For example, a handful of spinach in your morning eggs and grated carrot in a pasta sauce add two portions without effort.
C: Increase fibre gradually and drink enough water, or your stomach may feel bloated.

Q: How can I manage stress better?
- Take a few minutes each day for slow breathing. | Slow breathing calms your nervous system.
- Move your body every day. | Exercise burns off stress hormones.
- Write down what is worrying you. | Putting it on paper makes problems feel more manageable.
E: For instance, breathing in for four counts and out for six, for five minutes, can take the edge off a stressful afternoon.
C: Talk to a doctor or a counsellor if stress affects your sleep, appetite or mood for weeks.

Q: How can I reduce my screen time?
- Check your phone's screen time report. | Knowing where your time goes shows what to cut.
- Turn off non-essential notifications. | Fewer alerts mean fewer reasons to pick up the phone.
- Keep your phone out of the bedroom. | It removes the temptation to scroll late at night.
E: For example, setting a thirty-minute daily limit on social media apps often cuts an hour or more of screen time.
C: Tell friends and family how to reach you urgently, so you do not miss something important.

Q: How can I build a healthy morning routine?
- Wake up at the same time every day. | A consistent wake time makes mornings easier.
- Drink a glass of water first thing. | You wake up slightly dehydrated.
- Get outside for a few minutes of daylight. | Morning light boosts alertness and helps sleep later.
E: For instance, waking at seven, drinking water, a ten-minute walk and a simple breakfast makes a solid start.
C: Keep the routine realistic, since an overly ambitious routine is hard to stick to.

Q: How can I stop snacking late at night?
- Eat a balanced dinner with protein and fibre. | A filling meal keeps hunger away later.
- Brush your teeth after dinner. | It signals that eating is finished for the day.
- Keep tempting snacks out of the house. | You cannot eat what is not there.
E: For example, a dinner with chicken, vegetables and whole grains keeps most people full until bedtime.
C: Talk to a doctor if night eating feels out of control, as it can be linked to other health issues.

Q: How can I protect my eyes when working at a computer?
- Follow the 20-20-20 rule. | Every twenty minutes, looking twenty feet away for twenty seconds relaxes your eyes.
- Position the screen an arm's length away. | This reduces eye strain.
- Reduce glare from windows and lights. | Glare makes your eyes work harder.
E: For instance, setting a timer to look out the window every twenty minutes eases tired, dry eyes.
C: Get an eye test if you have regular headaches or blurry vision, since you may need glasses.

Q: How can I cut down on caffeine?
- Reduce slowly by one cup a day each week. | Stopping suddenly causes headaches.
- Swap some cups for decaf or herbal tea. | You keep the ritual without the caffeine.
- Avoid caffeine after midday. | Caffeine can stay in your system for many hours.
E: For example, going from four cups to three, then two over a month is much easier than quitting at once.
C: Check energy drinks and some medicines, which can contain a surprising amount of caffeine.

Q: How can I keep my back healthy?
- Lift with your legs and keep loads close to your body. | This protects your lower back.
- Stay active with walking and core exercises. | Movement keeps the back strong and flexible.
- Take breaks from sitting. | Long periods of sitting stiffen the back.
E: For instance, standing up for two minutes every half hour keeps your back from stiffening during the workday.
C: See a doctor urgently if back pain comes with numbness, weakness or loss of bladder control.

Q: How can I stop catching so many colds?
- Wash your hands often with soap. | Cold viruses spread mainly through hands.
- Get enough sleep. | Sleep helps your immune system work well.
- Avoid touching your face. | Viruses enter through the eyes, nose and mouth.
E: For example, washing hands before meals and after the commute can noticeably reduce colds in winter.
C: See a doctor if a cold lasts more than three weeks or you have trouble breathing.

Q: How do I take a proper break at work to recharge?
- Step away from your desk completely. | A change of scene rests your mind.
- Get outside if you can. | Fresh air and daylight boost energy.
- Avoid checking your phone during the break. | Scrolling does not rest your brain.
E: For instance, a fifteen-minute walk around the block at lunch leaves you sharper for the afternoon.
C: Do not skip breaks during long shifts, since fatigue raises the risk of mistakes and accidents.

Q: How do I keep my teeth healthy?
- Brush twice a day for two minutes. | Thorough brushing removes plaque.
- Clean between your teeth daily. | Floss or interdental brushes reach where a toothbrush cannot.
- Cut down on sugary snacks and drinks. | Sugar feeds the bacteria that cause decay.
E: For example, brushing after breakfast and before bed with a fluoride toothpaste covers the basics.
C: See a dentist if your gums bleed often, as that can be an early sign of gum disease.

Q: How do I start meditating?
- Start with five minutes a day. | Short sessions are easier to keep up.
- Focus on your breath. | The breath is a simple anchor for your attention.
- Use a guided meditation app at first. | Guidance helps beginners stay on track.
E: For instance, sitting for five minutes after your morning coffee and counting breaths up to ten is a good start.
C: Stop and seek support if meditation brings up distressing memories or feelings.

Q: How can I eat healthier on a busy schedule?
- Plan your meals for the week. | Planning prevents last-minute takeaways.
- Keep healthy snacks ready. | Fruit, nuts and yoghurt are easy to grab.
- Cook extra portions to eat later. | Leftovers give you a healthy meal with no effort.
E: For example, cooking a big pot of chilli on Sunday gives you dinner for three nights.
C: Store leftovers in the fridge within two hours and eat them within three days.

Q: How can I get more energy in the afternoon?
- Eat a lunch with protein and whole grains. | Balanced meals avoid the sugar crash.
- Go for a short walk after lunch. | Movement boosts alertness.
- Drink water regularly. | Even mild dehydration causes tiredness.
E: For instance, a salad with chicken and quinoa and a ten-minute walk beats a sandwich eaten at the desk.
C: Talk to a doctor about constant tiredness, since it can be a sign of anaemia or thyroid problems.
"""

PARENTING = """
Q: How do I get my toddler to sleep through the night?
- Keep a consistent bedtime routine. | A predictable routine tells your child it is time to sleep.
- Put your child to bed drowsy but awake. | They learn to fall asleep on their own.
- Keep night-time wake-ups calm and boring. | Quiet, dim responses stop waking from becoming fun.
E: For example, bath, pyjamas, two books and a song at the same time each night is a simple routine.
C: Talk to your doctor if your child snores heavily or seems to stop breathing at night.

Q: How do I deal with toddler tantrums?
- Stay calm and keep your voice low. | Your calm helps your child calm down.
- Name the feeling your child is having. | Feeling understood often eases the tantrum.
- Keep the limit you set. | Giving in teaches that tantrums work.
E: For instance, saying you are angry because we have to leave the park, and we will come back tomorrow, acknowledges the feeling and holds the limit.
C: Move your child somewhere safe if they are hitting or throwing things.

Q: How can I get my kids to eat vegetables?
- Serve vegetables often without pressure. | Children need many tries before accepting a new food.
- Let kids help choose and cook vegetables. | Children are more likely to eat what they made.
- Eat vegetables yourself at the same table. | Children copy what their parents do.
E: For example, letting your child wash and tear salad leaves makes them more curious about tasting the salad.
C: Cut round vegetables like cherry tomatoes into quarters for young children, since they can be a choking hazard.

Q: How much screen time is okay for young children?
- Keep screen time short and predictable. | Clear limits avoid daily arguments.
- Choose quality content and watch together. | Shared viewing turns screen time into learning.
- Keep screens out of bedrooms and meals. | Screens at those times disrupt sleep and family time.
E: For instance, many families allow an hour a day for children aged two to five.
C: Turn on parental controls on tablets and streaming apps, since children can stumble onto unsuitable content.

Q: How do I help my child with homework without doing it for them?
- Set up a regular time and quiet place for homework. | Routine makes homework less of a fight.
- Ask questions instead of giving answers. | Questions guide your child to think it through.
- Praise effort rather than results. | Effort is what your child can control.
E: For example, asking what the question is asking them to find helps a child break a maths problem down.
C: Talk to the teacher if homework regularly takes far too long or leaves your child in tears.

Q: How do I talk to my teenager so they actually listen?
- Pick relaxed moments, like car rides or cooking together. | Side-by-side chats feel less intense than face-to-face talks.
- Listen more than you speak. | Teenagers open up when they feel heard.
- Avoid lecturing and ask for their opinion. | Respect invites honesty.
E: For instance, asking what they thought of a film you watched together can lead to a surprisingly open conversation.
C: Seek help if your teenager seems withdrawn, hopeless or talks about self-harm.

Q: How do I encourage my child to read more?
- Read aloud together every day. | Shared reading builds a love of stories.
- Let your child choose what to read. | Children read more when they pick the books.
- Keep books everywhere in the house. | Easy access makes reading a habit.
E: For example, a weekly trip to the library to choose new books makes reading something to look forward to.
C: Check reading material for age suitability, especially online.

Q: How do I teach my child to share?
- Model sharing in your own behaviour. | Children learn by watching.
- Use a timer for turns. | Timers make sharing fair and predictable.
- Praise your child when they share. | Praise reinforces the behaviour.
E: For instance, a five-minute timer for the favourite toy lets siblings take turns without arguments.
C: Do not force a young child to share special items, as it can cause more conflict.

Q: How do I handle sibling fights?
- Stay calm and separate the children if needed. | Cooling down comes before problem solving.
- Listen to each side without taking sides. | Each child needs to feel heard.
- Help them find their own solution. | Children learn to resolve conflicts themselves.
E: For example, asking both children what they could do so everyone gets a turn often leads to their own compromise.
C: Step in straight away if a fight becomes physical or one child is always the target.

Q: How do I set up a good bedtime routine for kids?
- Start the routine at the same time each night. | Consistency helps the body clock.
- Follow the same steps in the same order. | Predictability is calming.
- Keep the last half hour screen-free. | Screens make it harder to fall asleep.
E: For instance, a routine of bath, pyjamas, teeth, two stories and lights out at 7:30 works well for many young children.
C: Check that the room is not too warm and that bedding is suitable for the child's age.

Q: How do I teach my child about money?
- Give a small regular allowance. | Managing money teaches decisions.
- Use three jars for spending, saving and giving. | Jars make money choices visible.
- Let your child make small mistakes. | Spending it all teaches a lesson that sticks.
E: For example, a child who saves for three weeks to buy a toy learns the value of patience.
C: Keep an eye on in-app purchases, since children can spend real money quickly.

Q: How do I prepare my child for starting school?
- Visit the school together before the first day. | Familiarity reduces anxiety.
- Practise the morning routine in advance. | A smooth routine makes the first day calmer.
- Read books about starting school. | Stories help children know what to expect.
E: For instance, walking the route to school a few times over the summer makes the first day feel familiar.
C: Tell the teacher about allergies or medical needs before the first day.

Q: How do I get my kids to help with chores?
- Give age-appropriate tasks. | Simple tasks help children feel capable.
- Use a chore chart. | A chart makes jobs clear and shows progress.
- Work alongside them at first. | Doing it together teaches how.
E: For example, a five-year-old can set the table and a ten-year-old can load the dishwasher.
C: Keep young children away from cleaning chemicals and sharp knives.

Q: How do I keep my baby safe at home?
- Use safety gates on stairs. | Falls are a common cause of injury for babies.
- Cover sockets and secure heavy furniture to the wall. | Babies pull on things and poke into small gaps.
- Keep small objects out of reach. | Babies put everything in their mouths.
E: For instance, getting down to your baby's eye level in each room shows you what they can reach.
C: Always put babies to sleep on their back in a clear cot with no pillows or toys.

Q: How do I help my child make friends?
- Arrange short playdates with one child at a time. | One-on-one play is easier for shy children.
- Sign your child up for activities they enjoy. | Shared interests make friendships easier.
- Practise social skills through role play. | Practice builds confidence.
E: For example, practising how to ask if they can join a game can help a shy child at the playground.
C: Talk to the school if your child is being excluded or bullied.

Q: How do I limit sugar in my child's diet?
- Offer water or milk instead of juice. | Juice contains a lot of sugar.
- Keep sweets for special occasions. | Treats stay special and do not become a habit.
- Read labels on snacks and cereals. | Many products marketed to children are high in sugar.
E: For instance, swapping a sweetened cereal for porridge with banana cuts a lot of sugar from breakfast.
C: Avoid using sweets as rewards or comfort, since it creates an emotional link to sugar.

Q: How do I stay patient as a parent?
- Take a pause before reacting. | A few seconds helps you respond rather than react.
- Look after your own sleep and needs. | Tired parents have less patience.
- Lower your expectations for busy times. | Realistic expectations reduce frustration.
E: For example, counting to five and taking a breath before answering can change the tone of the whole conversation.
C: Ask for help from family, friends or a doctor if you feel overwhelmed for long periods.
"""

TOPICS = {
    "travel": TRAVEL,
    "fitness": FITNESS,
    "health habits": HEALTH,
    "parenting": PARENTING,
}
