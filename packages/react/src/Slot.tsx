import {
  Children,
  cloneElement,
  forwardRef,
  type HTMLAttributes,
  isValidElement,
  type ReactElement,
  type ReactNode,
  type Ref,
} from 'react';
import { composeRefs } from './compose.ts';

type AnyProps = Record<string, unknown>;

/**
 * Renders its single child with the slot's props merged in: what `asChild` uses, so a consumer can
 * make a component render as their own element (a link, a design-system button).
 * Handlers are chained (the child's first), classes joined, styles merged (the child's win).
 */
export const Slot = forwardRef<HTMLElement, HTMLAttributes<HTMLElement> & { children?: ReactNode }>(
  function Slot({ children, ...slotProps }, forwardedRef) {
    const child = Children.only(children);
    if (!isValidElement(child)) return null;
    const childProps = child.props as AnyProps;
    const merged: AnyProps = { ...slotProps };
    for (const [name, childValue] of Object.entries(childProps)) {
      const slotValue = (slotProps as AnyProps)[name];
      if (/^on[A-Z]/.test(name) && typeof childValue === 'function' && typeof slotValue === 'function') {
        merged[name] = (...args: unknown[]) => {
          (childValue as (...a: unknown[]) => void)(...args);
          (slotValue as (...a: unknown[]) => void)(...args);
        };
      } else if (name === 'className' && slotValue) {
        merged[name] = [slotValue, childValue].filter(Boolean).join(' ');
      } else if (name === 'style' && slotValue) {
        merged[name] = { ...(slotValue as object), ...(childValue as object) };
      } else {
        merged[name] = childValue;
      }
    }
    const childRef = getElementRef(child);
    merged.ref = forwardedRef ? composeRefs(forwardedRef, childRef) : childRef;
    return cloneElement(child as ReactElement<AnyProps>, merged);
  },
);

/** React 19 passes a ref as a prop; React 18 keeps it on the element (where 19 warns on access). */
function getElementRef(element: ReactElement): Ref<HTMLElement> | undefined {
  const props = element.props as AnyProps;
  if ('ref' in props) return props.ref as Ref<HTMLElement> | undefined;
  const getter = Object.getOwnPropertyDescriptor(element, 'ref')?.get;
  if (getter && 'isReactWarning' in getter) return undefined;
  return (element as unknown as { ref?: Ref<HTMLElement> }).ref;
}
