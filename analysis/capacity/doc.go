// Package capacity provides capacity planning: the search for the smallest number of nodes
// of a template that meets a goal, over full simulations run by an evaluator the caller
// supplies, and the plan that search produces.
package capacity
