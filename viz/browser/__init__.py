"""The browser side: the HTML stepper and the animation player, and their front-end files
(``static/*.js``, ``static/*.css``)."""
