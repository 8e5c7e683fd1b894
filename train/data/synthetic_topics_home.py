"""Synthetic content, part 1: cooking, home repair, gardening and pets (format: synthetic_render)."""

__all__ = ["TOPICS"]

COOKING = """
Q: How do I keep rice from turning mushy?
- Rinse the rice in cold water until the water runs clear. | This washes off the loose surface starch that glues grains together.
- Use about one and a quarter cups of water per cup of white rice. | Too much water is the most common cause of mushy rice.
- Let the rice rest, covered, for five minutes after cooking. | The trapped steam finishes the grains evenly and firms them up.
E: For example, one cup of jasmine rice with one and a quarter cups of water needs about 15 minutes on low heat, then 5 minutes of rest off the heat.
C: Keep the lid on while it simmers, because lifting it lets the steam escape and the bottom can scorch.

Q: What is the best way to cook pasta so it doesn't stick together?
- Use a large pot with plenty of boiling water. | Pasta needs room to move, or the starch concentrates and makes it clump.
- Stir the pasta during the first two minutes of cooking. | That is when the surface is stickiest and strands fuse together.
- Salt the water generously once it boils. | Salted water seasons the pasta from the inside, which oil or sauce cannot do.
E: For example, 500 grams of spaghetti is happiest in about five litres of water with a tablespoon of salt.
C: Drain the pot carefully, pouring away from your body, since a full pot of boiling water can cause serious burns.

Q: How can I make a simple weeknight stir-fry taste better?
- Cut all the vegetables and protein before you turn on the heat. | A stir-fry cooks in minutes, so there is no time to chop once it starts.
- Get the pan very hot before adding anything. | High heat sears the food instead of steaming it, which gives that smoky flavour.
- Cook in small batches rather than crowding the pan. | Too much food at once drops the temperature and leaves everything soggy.
E: For instance, sear sliced chicken first, set it aside, fry the broccoli and peppers, then toss everything back in with soy sauce, garlic and a splash of honey.
C: Keep a lid nearby and never pour water on an oil fire, because water makes burning oil spray and spread.

Q: How do I cook a steak properly at home?
- Take the steak out of the fridge thirty minutes before cooking. | A steak at room temperature cooks more evenly from edge to centre.
- Pat it dry and season it well with salt just before it goes in the pan. | A dry surface browns properly, while a wet one only steams.
- Rest the steak for five minutes after cooking. | Resting lets the juices settle so they stay in the meat instead of running onto the board.
E: For example, a steak about two and a half centimetres thick needs roughly three to four minutes per side in a very hot pan for medium-rare.
C: Use a meat thermometer if you are cooking for children or older relatives, since they are more vulnerable to undercooked meat.

Q: How do I make fluffy scrambled eggs?
- Whisk the eggs well with a pinch of salt before cooking. | Air and evenly mixed whites and yolks give a lighter, more even texture.
- Cook them over low heat while stirring gently. | Slow heat forms soft, creamy curds instead of rubbery ones.
- Take the pan off the heat while the eggs still look slightly wet. | They keep cooking from their own heat for another minute.
E: For example, three eggs with a small knob of butter take about four minutes over low heat, stirred with a spatula the whole time.
C: Serve eggs fully cooked to pregnant people and small children, as runny eggs carry a small risk of salmonella.

Q: How can I meal prep lunches for the whole week?
- Pick two or three recipes that keep well in the fridge. | Grain bowls, stews and roasted vegetables hold their texture for days.
- Cook everything in one session on the weekend. | Batching saves time because the oven and the washing up only happen once.
- Store each lunch in its own sealed container. | Portioned meals are easy to grab and stop you from overeating.
E: For instance, a tray of roasted chicken thighs, a pot of brown rice and a tray of roasted peppers and courgettes make five balanced lunches in about ninety minutes.
C: Eat prepped meals with meat or fish within three to four days, and freeze anything you plan to eat later in the week.

Q: How do I know when chicken is cooked through?
- Check that the juices run clear when you pierce the thickest part. | Pink juices usually mean the centre is still undercooked.
- Use a meat thermometer in the thickest part of the meat. | It is the only reliable way to be sure the inside is safe.
- Cut into the meat near the bone to look at the colour. | The area near the bone is the last to cook through.
E: For example, a chicken breast is done when the thermometer reads 74 degrees Celsius, which usually takes about 20 minutes in a 200 degree oven.
C: Wash your hands, knives and boards after handling raw chicken, because it often carries bacteria that cause food poisoning.

Q: What can I cook when I only have a few ingredients left?
- Check what you have in the cupboard, fridge and freezer before deciding. | Staples like pasta, rice, eggs and tinned beans can anchor almost any meal.
- Build the meal around one starch, one protein and one vegetable. | That simple formula covers most balanced dishes.
- Use spices and condiments to add flavour. | A spoon of curry paste or a squeeze of lemon can turn plain ingredients into a real dish.
E: For instance, rice, a tin of chickpeas, an onion and a spoon of curry powder make a filling chickpea curry in twenty minutes.
C: Smell and check anything that has been open for a while, and throw out food with mould or an off smell.

Q: How do I bake bread for the first time?
- Start with a simple no-knead recipe. | It needs only flour, water, salt and yeast, and time does most of the work.
- Weigh your ingredients instead of using cups. | Bread is sensitive to proportions, and weighing is far more accurate.
- Let the dough rise until it has roughly doubled in size. | Under-risen dough bakes into a dense, heavy loaf.
E: For example, 500 grams of flour, 375 grams of water, 10 grams of salt and a teaspoon of yeast, left overnight and baked in a hot pot for 45 minutes, gives a crusty loaf.
C: Use thick oven gloves when handling a preheated cast iron pot, since it stays dangerously hot for a long time.

Q: How do I stop onions from making me cry?
- Chill the onion in the fridge for half an hour before cutting. | Cold slows the release of the irritating compounds.
- Use a very sharp knife. | A clean cut crushes fewer cells, so less of the irritant escapes.
- Leave the root end on until the very end. | The root holds the highest concentration of the compounds that sting.
E: For instance, halve a chilled onion through the root, peel it, slice it lengthwise, then cut across and discard the root last.
C: Keep your fingers curled under while you chop, since watery eyes make slips with a sharp knife more likely.

Q: How do I make a good homemade soup?
- Start by slowly softening onion, carrot and celery in oil. | This base builds a deep, sweet flavour that carries the whole soup.
- Add stock instead of plain water. | Stock gives body and savoury depth that water cannot.
- Season at the end and taste as you go. | Flavours concentrate as the soup simmers, so early salt can end up too strong.
E: For example, soften an onion, two carrots and two celery sticks, add a tin of tomatoes, a litre of stock and a handful of lentils, and simmer for thirty minutes.
C: Blend hot soup in small batches with the lid held down by a towel, because hot liquid can burst out of a blender.

Q: How do I keep fresh herbs from wilting so quickly?
- Trim the stems and stand soft herbs in a glass of water. | Parsley, coriander and basil stay crisp much longer when they can drink.
- Wrap hardy herbs in a damp paper towel and keep them in the fridge. | Rosemary and thyme like cool, humid storage.
- Keep basil out of the fridge. | Cold temperatures turn basil leaves black within a day or two.
E: For instance, a bunch of coriander in a jar of water with a loose bag over the top stays fresh for over a week in the fridge.
C: Change the water every couple of days, since stale water grows bacteria that rot the stems.

Q: How can I make vegetables taste less boring?
- Roast them at a high temperature instead of boiling them. | Roasting caramelises their natural sugars and adds crisp edges.
- Finish them with something acidic. | A squeeze of lemon or a dash of vinegar brightens the flavour instantly.
- Add a crunchy topping. | Toasted nuts, seeds or breadcrumbs give contrast to soft vegetables.
E: For example, toss broccoli with oil and salt, roast it at 220 degrees for twenty minutes, then finish with lemon zest and toasted almonds.
C: Spread the vegetables out on the tray and keep an eye on them, as thin pieces can go from browned to burnt quickly.

Q: How do I sharpen a kitchen knife?
- Use a whetstone soaked in water for about ten minutes. | A whetstone gives a finer, longer-lasting edge than a pull-through sharpener.
- Hold the blade at a steady angle of about 15 to 20 degrees. | A consistent angle is what actually creates a sharp edge.
- Finish with a few strokes on a honing steel. | Honing straightens the edge after sharpening and between uses.
E: For instance, ten slow strokes per side on the coarse side of a stone, then ten on the fine side, will bring most dull kitchen knives back to life.
C: Always sharpen with the edge moving away from your fingers, and clean the blade by wiping from the spine.

Q: How do I cook dried beans from scratch?
- Soak the beans in plenty of water overnight. | Soaking shortens the cooking time and helps them cook evenly.
- Drain, rinse and cover them with fresh water before cooking. | Fresh water removes some of the compounds that cause bloating.
- Simmer them gently until they are creamy inside. | A hard boil splits the skins and leaves the centres chalky.
E: For example, soaked chickpeas usually need about an hour of gentle simmering, while black beans take around forty-five minutes.
C: Boil red kidney beans hard for at least ten minutes before simmering, because undercooked kidney beans contain a toxin that causes severe stomach upset.

Q: How do I make a simple salad dressing?
- Use three parts oil to one part vinegar or lemon juice. | This ratio balances the sharpness without tasting greasy.
- Add a small spoon of mustard. | Mustard helps the oil and vinegar stay mixed instead of separating.
- Season with salt and a little honey, then taste. | A touch of sweetness rounds off the acid.
E: For instance, shake six tablespoons of olive oil, two of red wine vinegar, a teaspoon of mustard and a pinch of salt in a jar.
C: Keep dressings with fresh garlic in the fridge and use them within a few days, as garlic in oil can grow harmful bacteria at room temperature.

Q: How can I waste less food at home?
- Plan your meals before you go shopping. | A plan stops you from buying food you have no use for.
- Store older food at the front of the fridge. | Seeing it first means you use it before it spoils.
- Freeze leftovers and bread you will not eat soon. | The freezer pauses spoilage, so food waits until you need it.
E: For example, slice a loaf of bread when you buy it and freeze half, then toast slices straight from frozen.
C: Cool leftovers quickly and refrigerate them within two hours of cooking, since bacteria multiply fast in warm food.

Q: How do I make my own pizza dough?
- Mix flour, water, yeast, salt and a little olive oil into a soft dough. | A slightly wet dough gives a lighter, airier crust.
- Knead it for about eight minutes until it is smooth and springy. | Kneading develops the gluten that makes the crust chewy.
- Let it rise for at least an hour before shaping. | Rising develops flavour and makes the dough easier to stretch.
E: For instance, 300 grams of flour, 200 millilitres of warm water, a teaspoon of yeast and a teaspoon of salt make two thin pizzas.
C: Slide pizzas onto a hot stone or tray with a peel or a flat tray, and keep your arms clear of the oven's heating elements.
"""

HOME_REPAIR = """
Q: How do I fix a dripping tap?
- Turn off the water supply under the sink first. | Working on a tap under pressure will spray water everywhere.
- Take the tap handle apart and replace the worn washer or cartridge. | A worn washer is the cause of almost every dripping tap.
- Take the old part with you to the hardware shop. | Washers and cartridges come in many sizes, and matching them saves a second trip.
E: For example, on a classic two-handle tap, you remove the decorative cap, unscrew the handle, undo the headgear nut and swap the rubber washer at the bottom.
C: Put the plug in the sink before you start, so small screws and washers cannot fall down the drain.

Q: How can I unclog a slow bathroom sink?
- Pull out the stopper and clear away the hair underneath. | Hair caught on the stopper causes most slow bathroom drains.
- Use a cheap plastic drain snake to reach deeper clogs. | Its barbs grab hair that you cannot reach by hand.
- Flush the drain with hot water afterwards. | Hot water washes away the loosened soap scum.
E: For instance, a plastic drain snake pushed down and pulled back out a few times usually removes a clump of hair and soap in under five minutes.
C: Avoid mixing different drain-cleaning chemicals, because some combinations release toxic fumes.

Q: How do I patch a small hole in drywall?
- Clean the edges of the hole and remove loose bits. | Filler sticks best to a firm, clean surface.
- Cover larger holes with a self-adhesive mesh patch. | The mesh gives the filler something to grip so it does not crack.
- Apply thin layers of filler and sand between coats. | Thin layers dry faster and give a flatter finish than one thick coat.
E: For example, a doorknob-sized hole needs a mesh patch, two or three thin coats of filler, a light sanding and a coat of paint.
C: Check for wires and pipes before cutting or widening a hole, and wear a mask when sanding.

Q: How do I stop a door from squeaking?
- Find which hinge is squeaking by opening the door slowly. | Treating only the noisy hinge saves time and mess.
- Lift out the hinge pin and rub it with lubricant. | The squeak comes from metal rubbing on metal inside the hinge.
- Tap the pin back in and swing the door a few times. | Moving the door spreads the lubricant through the hinge.
E: For instance, a little petroleum jelly or silicone spray on each hinge pin usually silences a door for a year or more.
C: Support heavy doors while a pin is out, or remove only one pin at a time, so the door cannot drop.

Q: How can I reduce drafts around my windows?
- Find the leaks by holding a lit incense stick near the frames. | The smoke bends wherever cold air is getting in.
- Apply self-adhesive foam strips to gaps in opening windows. | Foam seals the moving parts but still lets the window close.
- Seal fixed cracks around the frame with caulk. | Caulk fills gaps that never need to move.
E: For example, foam tape around a sash window and a line of caulk where the frame meets the wall can make a room noticeably warmer in one afternoon.
C: Leave some ventilation in kitchens and bathrooms, because sealing everything tight can trap moisture and cause mould.

Q: How do I paint a room without making a mess?
- Cover the floor and furniture with drop cloths. | Paint drips travel further than you expect.
- Use painter's tape along trim and ceilings. | Tape gives you clean, straight edges without a steady hand.
- Cut in the edges with a brush before rolling the walls. | The roller can then cover the big areas quickly without touching the trim.
E: For instance, a typical bedroom needs about one afternoon: an hour to prepare, an hour to cut in, and an hour or two for two rolled coats.
C: Open the windows while you paint and take breaks in fresh air, since paint fumes can cause headaches.

Q: How do I fix a toilet that keeps running?
- Lift the tank lid and check the flapper at the bottom. | A worn flapper that does not seal lets water leak into the bowl.
- Adjust the float so the water stops below the overflow pipe. | If the water level is too high, it drains into the overflow constantly.
- Replace the flapper if adjusting does not help. | A new flapper is cheap and fixes most running toilets.
E: For example, if you hear the tank refill every few minutes, a new flapper that costs a few pounds usually solves it in fifteen minutes.
C: Turn off the water valve behind the toilet before replacing parts, and flush to empty the tank.

Q: How do I hang a heavy mirror safely?
- Find a stud behind the wall with a stud finder. | Screwing into a stud holds far more weight than plasterboard alone.
- Use wall anchors rated for the weight if there is no stud. | Anchors spread the load so the screw does not pull out.
- Hang the mirror from two points instead of one. | Two hooks keep it level and share the weight.
E: For instance, a 15 kilogram mirror hung on two screws into studs, or on two heavy-duty anchors rated for 25 kilograms each, will stay put for years.
C: Check for hidden cables and pipes before drilling, especially directly above or below sockets and switches.

Q: How do I clean mould off bathroom grout?
- Spray the grout with a mould cleaner and leave it for ten minutes. | The cleaner needs time to break down the mould.
- Scrub along the grout lines with an old toothbrush. | A small brush gets into the narrow lines where mould hides.
- Dry the area and improve ventilation afterwards. | Mould comes back quickly in damp, still air.
E: For example, running the extractor fan for twenty minutes after every shower is often enough to stop mould from coming back.
C: Wear gloves and open a window while cleaning, and never mix bleach with other cleaners.

Q: How do I reset a tripped circuit breaker?
- Switch off or unplug the appliances on the affected circuit. | The breaker will trip again if the overload is still there.
- Find the breaker that sits in the middle or off position. | A tripped breaker is usually out of line with the others.
- Push it fully off and then back on. | A breaker must be reset fully before it reconnects.
E: For instance, if the kitchen lost power when the kettle and microwave ran together, unplug one, reset the breaker and use them one at a time.
C: Call an electrician if the breaker trips again straight away, because that can point to a dangerous fault.

Q: How do I fix a wobbly table?
- Find which leg is short by rocking the table on a flat floor. | Knowing the cause tells you whether to shim or to tighten.
- Tighten every screw and bolt where the legs meet the top. | Loose joints are the most common reason a table wobbles.
- Add a felt pad or a small shim under the short leg. | A shim evens out the height without cutting anything.
E: For example, a table that rocks by a few millimetres usually becomes steady with one stacked felt pad under the short leg.
C: Avoid cutting the other legs down, since it is easy to make the table uneven in a new way.

Q: How do I bleed a radiator?
- Turn off the heating and let the radiators cool. | Hot water can spray out of the valve under pressure.
- Open the bleed valve with a radiator key until the hissing stops. | The hissing is trapped air, which stops the radiator from heating fully.
- Close the valve as soon as water appears and check the boiler pressure. | Bleeding lowers the system pressure, which may need topping up.
E: For instance, a radiator that is cold at the top but warm at the bottom usually needs about thirty seconds of bleeding.
C: Hold a cloth under the valve, since the water inside radiators is dirty and can stain carpets.

Q: How do I fill gaps between the bathtub and the wall?
- Remove the old sealant completely with a scraper. | New sealant will not stick to old, mouldy sealant.
- Fill the bath with water before applying new sealant. | The weight opens the gap to its widest, so the seal does not crack later.
- Run a steady bead and smooth it with a wet finger. | Smoothing presses the sealant into the gap and gives a neat finish.
E: For example, a bath with a cracked seal can be resealed in an afternoon with one tube of bathroom silicone.
C: Let the sealant cure for a full day before using the shower, or water will get behind it.

Q: How do I fix a sticking drawer?
- Empty the drawer and check the runners for damage or debris. | Crumbs and broken runners are the usual culprits.
- Rub candle wax or soap along wooden runners. | Wax reduces friction so the drawer slides smoothly.
- Tighten or realign metal slides that have come loose. | A slide that has shifted makes the drawer catch.
E: For instance, rubbing an old candle along the bottom edges of a wooden drawer often makes it glide like new.
C: Do not force a jammed drawer, since yanking can pull the front off or break the runners.

Q: How do I replace a light bulb in a high ceiling?
- Switch off the light and let the bulb cool. | Bulbs get hot enough to burn fingers.
- Use a proper stepladder rather than a chair. | A stepladder is stable and has a platform to stand on.
- Check the fitting type and wattage before buying the new bulb. | A wrong fitting means another climb.
E: For example, many ceiling lights use a bayonet fitting, which you push in and twist, rather than a screw fitting.
C: Have someone hold the ladder if you must reach above shoulder height, because falls from ladders are a common cause of injury.

Q: How do I stop a shower from losing pressure?
- Unscrew the shower head and soak it in vinegar overnight. | Limescale blocks the tiny nozzles and reduces the flow.
- Check the hose for kinks or splits. | A damaged hose leaks water before it reaches the head.
- Clean the filter where the hose meets the valve. | Debris caught there can choke the flow.
E: For instance, a shower head soaked in white vinegar for a few hours often comes back with a full, even spray.
C: Call a plumber if both hot and cold pressure are low throughout the house, since that points to a supply problem.

Q: How do I choose the right screws for a project?
- Match the screw length to the material you are fixing into. | The screw should go at least twice as deep into the base as the thickness it holds.
- Use wood screws for wood and self-tapping screws for metal. | Each type has threads designed to grip that material.
- Pick stainless or coated screws for outdoor jobs. | Plain steel rusts and stains quickly outside.
E: For example, fixing an 18 millimetre shelf to a wooden upright calls for a screw about 40 millimetres long.
C: Drill a pilot hole near the ends of boards, since screws driven without one can split the wood.

Q: How do I treat a small water leak under the sink?
- Dry everything and run the water to see exactly where the drip starts. | Leaks often travel along pipes before they drip.
- Tighten the slip nuts on the trap by hand. | Loose nuts are the most common source of small leaks.
- Replace any cracked washer or worn seal. | Tightening will not fix a seal that has perished.
E: For instance, a leak that only appears when the sink drains is almost always at the trap, while a constant drip points to the supply pipes.
C: Turn off the water supply if a pipe is spraying, and call a plumber if the leak is inside the wall.
"""

GARDENING = """
Q: How often should I water my vegetable garden?
- Water deeply once or twice a week instead of a little every day. | Deep watering encourages roots to grow down where the soil stays moist.
- Water in the early morning. | Less water evaporates, and leaves dry off before evening, which reduces disease.
- Check the soil with your finger before watering. | If it is still damp a few centimetres down, the plants do not need water yet.
E: For example, most vegetable beds need about two and a half centimetres of water a week, which is roughly 25 litres per square metre.
C: Avoid watering the leaves of tomatoes and squash, since wet foliage spreads fungal diseases.

Q: How do I start a compost pile?
- Mix green scraps with brown materials. | Greens like vegetable peelings add nitrogen, and browns like dry leaves add carbon.
- Keep the pile about as damp as a wrung-out sponge. | Microbes need moisture to break things down.
- Turn the pile every week or two. | Turning adds oxygen, which speeds up decomposition and prevents smells.
E: For instance, a bin filled with alternating layers of kitchen scraps and shredded cardboard can become dark, crumbly compost in about three months.
C: Leave meat, dairy and pet waste out of home compost, because they attract pests and can carry pathogens.

Q: What are easy vegetables for a beginner to grow?
- Start with salad leaves and radishes. | They grow quickly, so you see results within a few weeks.
- Grow courgettes or beans for a big harvest. | A few plants produce plenty of food with little effort.
- Choose a sunny spot for whatever you plant. | Most vegetables need at least six hours of direct sun a day.
E: For example, a single pot of cut-and-come-again lettuce can give you salads for two months if you pick the outer leaves.
C: Read the seed packet for spacing, since crowded plants compete for light and are more prone to disease.

Q: How do I keep slugs away from my plants?
- Go out at dusk with a torch and pick them off. | Slugs are most active in the evening, so you catch far more.
- Put copper tape around pots and raised beds. | Slugs avoid crossing copper.
- Water in the morning rather than the evening. | Dry soil at night makes the garden less attractive to slugs.
E: For instance, a beer trap made from a small sunken tub of beer can catch dozens of slugs in a single night.
C: Avoid standard slug pellets if you have pets or wildlife around, since some are poisonous to dogs and birds.

Q: How do I grow herbs on a windowsill?
- Pick the sunniest window you have. | Most herbs need at least five hours of sunlight a day.
- Use pots with drainage holes and a light compost. | Herbs hate sitting in wet soil, which rots their roots.
- Pinch off the tips regularly. | Pinching makes the plants bushier and stops them from flowering early.
E: For example, basil, parsley and chives all grow happily in a south-facing kitchen window.
C: Keep plants away from a hot radiator below the window, as dry heat can scorch them quickly.

Q: When should I prune my rose bushes?
- Prune in late winter or early spring. | The plant is dormant, and new growth is about to start.
- Cut just above an outward-facing bud at an angle. | This directs new growth outwards and lets rain run off.
- Remove dead, damaged and crossing stems first. | Clearing these improves air flow and reduces disease.
E: For instance, a hybrid tea rose is usually cut back to about three to five strong canes, each around 30 centimetres tall.
C: Wear thick gloves and long sleeves, since rose thorns can cause nasty scratches and infections.

Q: How do I improve poor garden soil?
- Dig in plenty of well-rotted compost or manure. | Organic matter improves drainage in clay and holds water in sand.
- Cover bare soil with mulch. | Mulch feeds the soil as it breaks down and keeps it from drying out.
- Avoid walking on the beds. | Treading compacts the soil and squeezes out air that roots need.
E: For example, spreading a five centimetre layer of compost over your beds each autumn noticeably improves the soil within a couple of years.
C: Wear gloves when handling manure and wash your hands afterwards, as it can carry bacteria.

Q: How do I keep my houseplants alive?
- Check the light needs of each plant. | Most houseplant problems come from a plant in the wrong spot.
- Water only when the top of the soil is dry. | Overwatering kills more houseplants than underwatering.
- Empty the saucer after watering. | Roots sitting in water rot quickly.
E: For instance, a snake plant is happy in a dim corner and needs water only every two or three weeks.
C: Check whether a plant is toxic before placing it where pets or small children can reach it.

Q: How do I grow tomatoes in pots?
- Use a large pot of at least twenty litres. | Tomatoes have big roots and dry out quickly in small pots.
- Feed them weekly with a tomato fertiliser once flowers appear. | The plants need extra potassium to produce fruit.
- Stake the plant and remove side shoots on tall varieties. | This focuses energy on the fruit and keeps the plant upright.
E: For example, a single cherry tomato plant in a big pot on a sunny balcony can produce several kilograms of fruit over the summer.
C: Keep tomato leaves away from pets and children, since the leaves and stems are mildly toxic.

Q: How do I get rid of weeds without chemicals?
- Pull weeds when the soil is moist. | The roots slide out whole instead of snapping off.
- Cover bare soil with mulch or cardboard. | Blocking light stops new weed seeds from sprouting.
- Hoe shallowly on dry, sunny days. | Cut seedlings wither quickly in the sun.
E: For instance, a layer of cardboard topped with wood chips can smother weeds in a new bed within a few months.
C: Wear gloves when pulling weeds such as nettles or giant hogweed, whose sap can burn the skin.

Q: How do I plant a tree in my garden?
- Dig a hole twice as wide as the root ball but no deeper. | Roots spread sideways, and planting too deep can rot the trunk.
- Loosen circling roots before planting. | Roots that keep circling can strangle the tree as it grows.
- Water it thoroughly and regularly for the first year. | A young tree needs help until its roots establish.
E: For example, a young apple tree planted in autumn needs a bucket of water each week during its first dry summer.
C: Check the mature size of the tree and plant it well away from house foundations and drains.

Q: How do I attract bees and butterflies to my garden?
- Plant a mix of flowers that bloom from spring to autumn. | Pollinators need food throughout the season.
- Choose simple, open flowers over showy doubles. | Bees can reach the nectar and pollen more easily.
- Leave a small wild corner in the garden. | Long grass and plant stems give insects places to shelter.
E: For instance, lavender, foxgloves, marjoram and asters together feed bees from May to October.
C: Avoid spraying insecticides on flowering plants, because they can kill the very insects you want to attract.

Q: How do I look after my lawn in summer?
- Raise the mower blade higher. | Longer grass shades the soil and survives dry weather better.
- Water deeply once a week during dry spells. | Deep watering builds drought-resistant roots.
- Leave the clippings on the lawn. | Clippings return nutrients and moisture to the soil.
E: For example, mowing at around five centimetres instead of two keeps a lawn much greener through a hot July.
C: Wear sturdy shoes and keep children and pets away when mowing, as mowers can throw stones.

Q: How do I grow potatoes in a bag?
- Fill the bag with about 15 centimetres of compost and plant a few seed potatoes. | A shallow start gives the shoots light quickly.
- Add more compost as the shoots grow. | Burying the stems encourages more potatoes to form.
- Harvest when the leaves turn yellow and die back. | That is the sign the tubers have finished growing.
E: For instance, a 40 litre potato bag with three seed potatoes typically gives a couple of kilograms of new potatoes.
C: Throw away any potatoes that have turned green, because the green parts contain a natural toxin.

Q: How do I protect plants from frost?
- Check the forecast and cover tender plants before a cold night. | Frost forms on clear, still nights and damages leaves.
- Use horticultural fleece or an old sheet. | Covers trap the warmth rising from the soil.
- Move pots close to the house wall. | Walls radiate stored heat at night.
E: For example, draping fleece over young dahlias on a frosty May night can save them from being blackened.
C: Remove plastic covers during the day, as trapped heat and condensation can cook or rot plants.

Q: How do I start seeds indoors?
- Use a fine seed compost in small trays. | Fine compost gives tiny seeds good contact and drains well.
- Keep the trays warm and lightly moist. | Most seeds need warmth and steady moisture to germinate.
- Move seedlings into bright light as soon as they sprout. | Weak light makes seedlings tall, pale and floppy.
E: For instance, tomato seeds sown in March on a warm windowsill usually sprout within a week.
C: Harden seedlings off gradually over a week before planting outside, or they can go into shock.

Q: How do I make my garden more low-maintenance?
- Plant shrubs and perennials instead of annual bedding. | They come back every year without replanting.
- Mulch all the beds thickly. | Mulch suppresses weeds and reduces watering.
- Install a simple drip irrigation system on a timer. | It waters plants reliably even when you forget.
E: For example, a border of lavender, ornamental grasses and hardy geraniums needs little more than a trim once a year.
C: Choose plants suited to your soil and climate, since struggling plants always need more work.
"""

PETS = """
Q: How do I stop my dog from pulling on the lead?
- Stop walking the moment the lead goes tight. | Your dog learns that pulling never gets them anywhere faster.
- Reward your dog with a treat when the lead is loose. | Rewards show them exactly which behaviour pays off.
- Practise in short sessions in quiet places first. | Distractions make learning much harder at the start.
E: For example, a ten-minute practice around a quiet street each morning often makes a clear difference within two weeks.
C: Avoid choke or prong collars, since they can injure a dog's neck and make them fearful.

Q: How do I introduce a new cat to my home?
- Give the cat a quiet room of its own for the first few days. | A small, safe space helps a nervous cat settle.
- Let the cat come to you rather than picking it up. | Cats build trust when they feel in control.
- Keep food, water and the litter tray in separate spots. | Cats dislike eating close to where they toilet.
E: For instance, a spare bedroom with a hiding box, a bed, food and a litter tray makes a good starter space for a week.
C: Keep a new cat indoors for at least two weeks so it does not run off before it knows the home.

Q: How much exercise does my dog need?
- Match the exercise to your dog's breed and age. | A working breed needs far more activity than a toy breed.
- Split exercise into two or more walks a day. | Shorter, regular walks are better than one long outing.
- Add games that work the brain as well as the legs. | Sniffing games and puzzle toys tire dogs out too.
E: For example, a young Labrador usually needs about an hour to ninety minutes of exercise a day, while a small terrier may be happy with forty minutes.
C: Avoid long runs with puppies and walks in the midday heat, because growing joints and hot pavements can be harmful.

Q: How do I choose the right food for my cat?
- Pick a complete food labelled for your cat's life stage. | Kittens, adults and seniors have different nutritional needs.
- Include some wet food in the diet. | Cats often drink too little, and wet food adds moisture.
- Change foods gradually over a week. | A sudden switch can upset the stomach.
E: For instance, mix a quarter of the new food with the old for two days, then half and half, then three quarters, before switching completely.
C: Never give a cat food made for dogs, because it lacks taurine, which cats need for a healthy heart.

Q: How do I trim my dog's nails?
- Get your dog used to having its paws handled first. | Calm handling makes the actual trim much easier.
- Cut only the tip of each nail. | The pink quick inside the nail bleeds if you cut too far.
- Give a treat after every nail or two. | Rewards turn nail trims into a positive routine.
E: For example, trimming one paw a day with treats in between is a gentle way to start with a nervous dog.
C: Keep styptic powder nearby in case you nick the quick, and stop if your dog becomes very distressed.

Q: How can I keep my indoor cat happy?
- Play with your cat for two short sessions a day. | Play satisfies the hunting instinct and burns energy.
- Provide places to climb and perches by windows. | Cats love height and watching the world outside.
- Use puzzle feeders instead of a bowl. | Working for food keeps the mind busy.
E: For instance, ten minutes with a feather wand before breakfast and dinner can calm a restless cat noticeably.
C: Keep string, hair ties and rubber bands out of reach, since swallowed strings can cause dangerous blockages.

Q: How do I house-train a puppy?
- Take the puppy outside after waking, eating and playing. | Those are the moments it is most likely to need to go.
- Praise and reward straight after it goes outside. | Instant rewards link the praise to the right place.
- Clean accidents with an enzyme cleaner. | Ordinary cleaners leave a smell that invites repeat accidents.
E: For example, an eight-week-old puppy usually needs to go out every one to two hours during the day.
C: Never punish a puppy for accidents, because it teaches the puppy to hide when it needs to go.

Q: How do I look after a pet rabbit?
- Give the rabbit plenty of space and a companion. | Rabbits are social and active, and a hutch alone is not enough.
- Feed mostly hay with some fresh greens. | Hay keeps their teeth and gut healthy.
- Check their teeth and bottom regularly. | Overgrown teeth and a dirty rear can become serious quickly.
E: For instance, two rabbits do well with a secure shed or large enclosure plus a run of at least three by two metres.
C: Take a rabbit to a vet the same day if it stops eating, since that can be life-threatening.

Q: How do I stop my cat from scratching the furniture?
- Put a sturdy scratching post next to the furniture it targets. | Cats scratch where they already like to, so meet them there.
- Reward the cat when it uses the post. | Praise and treats make the post the preferred spot.
- Cover the furniture with a throw or double-sided tape for a while. | An unpleasant surface nudges the cat towards the post.
E: For example, a tall sisal post placed right beside the sofa arm often solves the problem within a few weeks.
C: Avoid declawing, which is a painful amputation and is banned in many countries.

Q: How do I keep my dog calm during fireworks?
- Set up a cosy den in a quiet room. | A covered crate or corner gives your dog a safe place to hide.
- Close the curtains and play music or the TV. | Familiar sounds mask the bangs and flashes.
- Walk your dog before dark on firework nights. | It avoids being caught outside when the noise starts.
E: For instance, a crate covered with a blanket and a long-lasting chew can keep many dogs settled through the evening.
C: Talk to your vet about anxiety medication for severe fear, and make sure your dog is microchipped in case it bolts.

Q: How do I clean my dog's ears?
- Use a cleaner made for dogs. | Dog ear cleaners are gentle and dissolve wax safely.
- Fill the ear canal, massage the base, and let your dog shake. | Massaging loosens the wax so it can come out.
- Wipe the outer ear with cotton wool. | This removes the loosened debris.
E: For example, dogs with floppy ears, like spaniels, often benefit from an ear clean every couple of weeks.
C: Never push cotton buds into the ear canal, and see a vet if you notice a bad smell, redness or head shaking.

Q: How do I set up a fish tank for beginners?
- Cycle the tank for several weeks before adding fish. | Cycling grows the bacteria that break down toxic waste.
- Add a few hardy fish at a time. | Adding too many at once overwhelms the filter.
- Change about a quarter of the water every week. | Regular changes keep the water clean and stable.
E: For instance, a 60 litre tank with a good filter and heater can host a small group of hardy tetras once it has cycled.
C: Use a water conditioner for tap water, since chlorine is poisonous to fish.

Q: How do I know if my pet is overweight?
- Feel along your pet's ribs. | You should feel the ribs easily under a thin layer of fat.
- Look at your pet from above. | A visible waist behind the ribs is a good sign.
- Weigh your pet regularly and keep a record. | Small changes are easier to fix early.
E: For example, a dog whose ribs you can barely feel and who has no waist is probably carrying too much weight.
C: Ask your vet before starting a strict diet, because losing weight too fast can be harmful, especially for cats.

Q: How do I travel with my dog in the car?
- Secure your dog with a harness seat belt or a crate. | A loose dog can be injured or distract the driver.
- Take breaks every two hours. | Your dog needs water, a stretch and a toilet stop.
- Bring water, a bowl and familiar bedding. | Familiar smells help a nervous traveller relax.
E: For instance, a four-hour trip with a dog works well with two stops of fifteen minutes each.
C: Never leave a dog alone in a parked car on a warm day, because the temperature inside rises dangerously fast.

Q: How do I brush my cat's teeth?
- Start by letting your cat lick pet toothpaste from your finger. | Tasting it first builds a positive association.
- Gently rub the outer surfaces of the teeth with a finger brush. | The outer surfaces collect most of the plaque.
- Keep sessions short and end with a treat. | Short sessions make the cat less likely to resist.
E: For example, thirty seconds of brushing three times a week is a realistic target for most cats.
C: Use toothpaste made for pets only, since human toothpaste can be toxic to cats.

Q: How do I care for a hamster?
- Give it a large cage with deep bedding. | Hamsters love to burrow and need space to roam.
- Provide a solid exercise wheel of the right size. | Running keeps them fit, and a wheel that is too small hurts the back.
- Clean spots daily and the full cage weekly. | A clean cage prevents smells and illness.
E: For instance, a Syrian hamster is comfortable with at least 20 centimetres of bedding and a wheel about 28 centimetres across.
C: Keep hamsters alone unless you are sure of the species, because Syrian hamsters fight when housed together.

Q: How do I help my dog with separation anxiety?
- Practise short absences and build up slowly. | Gradual practice teaches your dog that you always come back.
- Keep your departures and returns low-key. | Big goodbyes raise the tension.
- Leave a long-lasting chew or puzzle toy. | Having a job to do helps your dog settle.
E: For example, start by stepping outside for one minute, then three, then ten, over a couple of weeks.
C: Speak to a vet or a qualified behaviourist if your dog harms itself or howls for long periods.
"""

TOPICS = {
    "cooking": COOKING,
    "home repair": HOME_REPAIR,
    "gardening": GARDENING,
    "pets": PETS,
}
